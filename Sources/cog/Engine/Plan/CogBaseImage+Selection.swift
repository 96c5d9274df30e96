import Foundation
import OCI
import Registry

/// Whether a build uses a cog-base image, decided as Cog decides it (`standard_generator.go: BaseImage`).
extension CogBaseImage {
    /// `--use-cog-base-image`: not given (Cog's default, true, with a fallback), `true`, or `false`.
    public enum Request: Sendable, Equatable {
        case byDefault, required, off
    }

    /// The image chosen (nil: build on python-slim or nvidia/cuda) and the warnings to print.
    public struct Selection: Sendable {
        public var image: CogBaseImage?
        public var warnings: [String]
    }

    /// Chooses the cog-base image for `config` and checks that the registry has it (through `registry`'s
    /// mirrors, as the pull will). Not asked for explicitly, any problem is one warning and no cog-base image,
    /// and the registry gets one quick try (`quickCheck`), so that a build without the network is not held up.
    /// - Throws: `CogBaseImageError` only when `request` is `.required`.
    public static func select(
        for config: CompletedConfig, request: Request, registryHost: String = defaultRegistryHost,
        registry: RegistrySettings, credentials: DockerConfig
    ) async throws(CogBaseImageError) -> Selection {
        guard request != .off else { return Selection(image: nil, warnings: []) }
        // Loading the config read the tables already; without them no combination is known (unsupported).
        let torchBuilds = (try? CompatibilityTables.bundled().torch) ?? []
        let (candidate, warnings) = Self.candidate(for: config, registryHost: registryHost, torchBuilds: torchBuilds)
        do throws(CogBaseImageError) {
            let image = try candidate.get()
            let settings = request == .required ? registry : quickCheck(registry)
            guard try await image.exists(settings: settings, credentials: credentials) else {
                throw .unsupported(cuda: image.cuda, python: image.python, torch: image.torch)
            }
            return Selection(image: image, warnings: warnings)
        } catch {
            guard request == .byDefault else { throw error }
            return Selection(
                image: nil,
                warnings: warnings + [
                    "Could not find a suitable base image, continuing without base image support (\(error.reason))."
                ])
        }
    }

    /// `settings` for the check a build makes without being asked to: one attempt, 3 s to connect, 5 s for the
    /// reply. Where the registry's name does not resolve (no network, a closed DNS) it fails at once.
    static func quickCheck(_ settings: RegistrySettings) -> RegistrySettings {
        var quick = settings
        quick.retry.maxAttempts = 1
        quick.retry.maxAttemptsUnanswered = 1
        quick.timeouts.connect = 3
        quick.timeouts.reply = 5
        return quick
    }

    /// Whether the registry (or a mirror of it) has this image.
    private func exists(settings: RegistrySettings, credentials: DockerConfig) async throws(CogBaseImageError)
        -> Bool
    {
        do {
            let reference = try ImageReference(parsing: reference)
            return try await ImageTransfer(settings: settings, credentials: credentials).find(reference) != nil
        } catch {
            throw .registry(reference: reference, underlying: error)
        }
    }
}
