import Foundation
import Registry

/// Where a model with managed weights is pushed (Cog's "model ref"): `registry/repository:tag`, from `model:` in
/// cog.yaml and the `COG_MODEL*` variables, resolved as Cog resolves it. Weights go into the same repository under
/// tags of their own; `cog push` puts an OCI index under `tag`.
public struct ModelReference: Sendable, Equatable, CustomStringConvertible {
    /// `COG_MODEL` (a whole reference), `COG_MODEL_REGISTRY`, `COG_MODEL_REPO`, `COG_MODEL_TAG`.
    public struct Overrides: Sendable, Equatable {
        public var model: String?
        public var registry: String?
        public var repository: String?
        public var tag: String?

        public init(model: String? = nil, registry: String? = nil, repository: String? = nil, tag: String? = nil) {
            (self.model, self.registry, self.repository, self.tag) = (model, registry, repository, tag)
        }

        var isEmpty: Bool { [model, registry, repository, tag].allSatisfy { ($0 ?? "").isEmpty } }
    }

    public let registry: String
    public let repository: String
    public let tag: String
    /// Set when `COG_MODEL` pins a digest (a push needs a tag).
    public let digest: String?

    public var description: String { "\(registry)/\(repository):\(tag)" }
    /// `registry/repository`, where the weights are.
    public var repositoryName: String { "\(registry)/\(repository)" }

    /// nil when neither `model:` nor a variable names one.
    /// - Parameters:
    ///   - registryHost: r8.im, or `COG_REGISTRY_HOST`: used when only `COG_MODEL_REPO` names the repository.
    ///   - now: the default tag is the time, `20060102T150405Z`.
    public static func resolve(
        model: String?, image: String?, overrides: Overrides, registryHost: String, now: Date = Date()
    ) throws -> ModelReference? {
        func nonEmpty(_ value: String?) -> String? { (value ?? "").isEmpty ? nil : value }
        if image != nil, !overrides.isEmpty {
            throw WeightsError.usage(
                "'image' in cog.yaml cannot be combined with COG_MODEL* env vars\n  remove 'image' and set 'model', or unset COG_MODEL, COG_MODEL_REGISTRY, COG_MODEL_REPO and COG_MODEL_TAG"
            )
        }
        if let whole = nonEmpty(overrides.model) {
            let reference: ImageReference
            do { reference = try ImageReference(parsing: whole) } catch {
                throw WeightsError.usage("invalid COG_MODEL value: \(error)")
            }
            // ImageReference fills in `latest`; Cog tags an untagged COG_MODEL with the time instead.
            let name = whole.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let tagged = name.split(separator: "/").last?.contains(":") == true
            return ModelReference(
                registry: reference.registry, repository: reference.repository,
                tag: tagged ? reference.tag ?? timestamp(now) : timestamp(now),
                digest: reference.digest?.description)
        }
        if let tag = nonEmpty(overrides.tag) {
            if tag.hasPrefix("cog-") {
                throw WeightsError.usage(
                    "invalid COG_MODEL_TAG \"\(tag)\": \"cog-\" is a reserved prefix — choose a different tag")
            }
            if tag.range(of: #"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$"#, options: .regularExpression) == nil {
                throw WeightsError.usage("invalid COG_MODEL_TAG \"\(tag)\": not a valid tag")
            }
        }
        if let host = nonEmpty(overrides.registry), host.contains("/") || host.contains("@") {
            throw WeightsError.usage(
                "invalid COG_MODEL_REGISTRY \"\(host)\": must be a bare host (no path, tag, or digest)")
        }
        var parsed: ImageReference?
        if let model = nonEmpty(model) { parsed = try? ImageReference(parsing: model) }
        guard let repository = nonEmpty(overrides.repository) ?? parsed?.repository else { return nil }
        if repository.contains(":") || repository.contains("@") {
            throw WeightsError.usage("invalid COG_MODEL_REPO \"\(repository)\": a repository, without tag or digest")
        }
        let registry = nonEmpty(overrides.registry) ?? parsed?.registry ?? registryHost
        return ModelReference(
            registry: registry, repository: repository, tag: nonEmpty(overrides.tag) ?? timestamp(now), digest: nil)
    }

    /// The reference of the project's model; nil when neither `model:` nor a variable names one.
    public static func resolve(_ loaded: LoadedConfig, overrides: Overrides, registryHost: String) throws
        -> ModelReference?
    {
        let config = loaded.config.config
        return try resolve(model: config.model, image: config.image, overrides: overrides, registryHost: registryHost)
    }

    /// As `resolve`, for weight commands: no reference is an error saying how to give one.
    public static func required(_ loaded: LoadedConfig, overrides: Overrides, registryHost: String) throws
        -> ModelReference
    {
        guard let model = try resolve(loaded, overrides: overrides, registryHost: registryHost) else {
            throw missing(image: loaded.config.config.image)
        }
        return model
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// The message of weight commands when no reference resolves.
    static func missing(image: String?) -> WeightsError {
        image != nil
            ? .usage("weight commands require 'model' in cog.yaml, not 'image' — rename 'image' to 'model'")
            : .usage(
                "weight commands require a model ref: set 'model' in cog.yaml, or export COG_MODEL / COG_MODEL_REPO")
    }
}
