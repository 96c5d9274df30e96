import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry

/// The options `cog build` and `cog push` share, and the build they run.
struct BuildOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The config file to read (searched upwards from the working directory).")
    var file = "cog.yaml"
    @Option(
        name: .customLong("secret"),
        help:
            "A build secret: id=NAME,src=PATH (relative to the project) or id=NAME,env=VARIABLE, also with type=file|env (repeatable). Steps whose secret is not given run without it."
    )
    var secrets: [String] = []
    @Flag(name: .customLong("no-cache"), help: "Run every step again instead of reusing cached layers.")
    var noCache = false
    @Option(help: "Progress output: auto, tty, plain, json or quiet.")
    var progress = Environment.current.variables["BUILDKIT_PROGRESS"] ?? "auto"
    @OptionGroup var base: BaseImageOptions
    @OptionGroup var registryCache: RegistryCacheOptions
    @Option(
        name: .customLong("openapi-schema"),
        help: "Use this OpenAPI schema (a JSON file) instead of generating it from the predictor.")
    var openAPISchema: String?
    @Option(
        help:
            "Seconds since 1970 for layer mtimes, the image's created time and SOURCE_DATE_EPOCH in steps (default: $SOURCE_DATE_EPOCH, else 0)."
    )
    var timestamp: Int64?
    @Option(help: "Layer compression: gzip, zstd or none.")
    var compression = "gzip"
    @Option(
        help:
            "Network of the steps and the model: default (a namespace of its own, outbound through slirp4netns, without the host's loopback services), host (the host's network) or none."
    )
    var network = "default"
    @Flag(
        name: .customLong("separate-weights"),
        help:
            "Also give layers of their own to project files of 10 MiB or more that are not code or media (Cog's rule); files of 100 MiB or more always get one."
    )
    var separateWeights = false

    func validate() throws {
        guard BuildReporter.Mode(rawValue: progress) != nil else {
            throw ValidationError("--progress must be one of auto, tty, plain, json, quiet (not \"\(progress)\")")
        }
        guard LayerCompression(rawValue: compression) != nil else {
            throw ValidationError("--compression must be gzip, zstd or none (not \"\(compression)\")")
        }
        for secret in secrets {
            do { _ = try BuildSecret(parsing: secret) } catch { throw ValidationError("\(error)") }
        }
        guard Confinement.Network(rawValue: network) != nil else {
            throw ValidationError("--network must be default, host or none (not \"\(network)\")")
        }
        if let timestamp, timestamp < 0 {
            throw ValidationError("--timestamp must be seconds since 1970, not \(timestamp)")
        }
        if let timestamp, timestamp > Self.latestTimestamp {
            throw ValidationError(Self.beyondYear9999("--timestamp", timestamp))
        }
    }

    /// 9999-12-31T23:59:59Z: image dates are RFC 3339, whose years have four digits (skopeo and Docker cannot
    /// read a later one), so a later time is refused rather than clamped to a date nobody asked for.
    static let latestTimestamp: Int64 = 253_402_300_799

    static func beyondYear9999(_ name: String, _ value: Int64) -> String {
        "\(name) \(value) is after 9999-12-31T23:59:59Z (\(latestTimestamp)), the last time an image date (RFC 3339) can hold; refusing it rather than clamping: give seconds since 1970 up to \(latestTimestamp)"
    }

    /// `--network`, validated.
    var networkMode: Confinement.Network { Confinement.Network(rawValue: network) ?? .isolated }

    var reporter: BuildReporter { BuildReporter(mode: BuildReporter.Mode(rawValue: progress) ?? .auto) }

    /// The settings of a build with these options; relative secret paths are taken from `projectDirectory`.
    func settings(_ environment: Environment = .current, projectDirectory: String) throws -> BuildSettings {
        var layers = LayerOptions(
            compression: LayerCompression(rawValue: compression) ?? .gzip, sourceDateEpoch: environment.sourceDateEpoch)
        if let timestamp { layers.sourceDateEpoch = timestamp }
        if timestamp == nil, !(0...Self.latestTimestamp).contains(layers.sourceDateEpoch) {
            throw CommandError.invalidSetting(
                Self.beyondYear9999("SOURCE_DATE_EPOCH", layers.sourceDateEpoch)
                    .replacingOccurrences(of: "is after", with: "is before 1970 or after"))
        }
        let parsed = try secrets.map {
            try BuildSecret(parsing: $0, relativeTo: projectDirectory).resolved(in: environment.variables)
        }
        var settings = try environment.buildSettings(layers: layers, secrets: parsed)
        settings.noCache = noCache
        settings.registryCache = registryCache.settings
        settings.schemaFile = openAPISchema
        settings.network = networkMode
        settings.weights.separateWeights = separateWeights
        return settings
    }

    /// Loads cog.yaml, plans, and builds. Errors are printed and turned into exit code 1.
    /// - Parameters:
    ///   - project: copy the project into the image, or leave it out to mount it at /src.
    ///   - listener: given the loaded config, what to call with each layer blob as soon as it is written (push
    ///     while building), or nil.
    ///   - beforeBuilding: called with the loaded config and the plan before anything is built (inputs checked
    ///     first); what it throws ends the command.
    func build(
        reporter: BuildReporter, project: ProjectSource = .copied,
        listener: (LoadedConfig) throws -> (@Sendable (Descriptor, ImageReference?) -> Void)? = { _ in nil },
        beforeBuilding: (LoadedConfig, BuildPlan) async throws -> Void = { _, _ in }
    ) async throws -> (built: BuiltImage, loaded: LoadedConfig, paths: CogPaths) {
        let (projectDirectory, configFile) = DebugCommand.locate(file)
        let environment = Environment.current
        let loaded: LoadedConfig
        let plan: BuildPlan
        do {
            loaded = try ConfigLoader.load(projectDirectory: projectDirectory, configFile: configFile)
            for warning in loaded.warnings { reporter.warning(warning.description) }
            let cogBase = try await base.cogBase(for: loaded.config, environment: environment) {
                reporter.warning($0)
            }
            plan = try BuildPlanner.plan(
                config: loaded.config, projectDirectory: loaded.projectDirectory,
                baseImageOverride: base.override(for: loaded.config), cogBase: cogBase,
                options: environment.planOptions(projectDirectory: loaded.projectDirectory))
        } catch let error as CogBaseImageError {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        try await beforeBuilding(loaded, plan)
        var settings = try await runReportingErrors {
            try self.settings(environment, projectDirectory: loaded.projectDirectory)
        }
        settings.project = project
        let onLayerWritten = try await runReportingErrors { try listener(loaded) }
        let interruption = Interruption(reporter: reporter)
        defer { interruption.end() }
        let session = BuildSession(
            plan: plan, projectDirectory: loaded.projectDirectory, settings: settings, progress: reporter,
            cancel: interruption.flag, onStepsStarting: { interruption.stepsRunning = true },
            onLayerWritten: onLayerWritten)
        let built = try await runReportingErrors(interruptedBy: interruption.signalNumber) { try await session.run() }
        return (built, loaded, settings.paths)
    }

    /// The image name: `-t`, else `image:` in cog.yaml, else `cog-<directory>` as Cog derives it.
    static func imageName(tag: String?, loaded: LoadedConfig) -> String {
        if let tag { return tag }
        if let image = loaded.config.config.image { return image }
        let base = (loaded.projectDirectory as NSString).lastPathComponent.lowercased().replacingOccurrences(
            of: " ", with: "-")
        let cleaned = String(
            base.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }.prefix(30))
        return "cog-\(cleaned.isEmpty ? "model" : cleaned)"
    }
}

/// Runs `body`, printing a clear message (never a stack trace) and exiting 1 on failure (128 + the signal when
/// interrupted).
/// Errors for which `passing` is true are thrown as they are, for the caller to handle.
func runReportingErrors<T>(
    interruptedBy signal: @autoclosure () -> Int32 = SIGINT, passing: (Error) -> Bool = { _ in false },
    _ body: () async throws -> T
) async throws -> T {
    do {
        return try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch  where passing(error) {
        throw error
    } catch BuildError.interrupted {
        printError("error: \(BuildError.interrupted)")
        throw ExitCode(128 + signal())
    } catch {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}

/// One warning line when the confinement is weaker than the default, saying what and why.
func reportConfinement(_ confinement: Confinement, reporter: BuildReporter) {
    guard !confinement.shortfalls.isEmpty else { return }
    reporter.warning("weaker confinement: " + confinement.shortfalls.joined(separator: "; "))
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
