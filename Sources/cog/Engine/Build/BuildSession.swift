import Foundation
import Layers
import OCI
import Registry

/// One build: owns its collaborators (plan, settings, runner, step cache, capture method, secrets, progress)
/// and runs the phases in order: pull the base, run each step (or take it from the step cache), finish the image
/// with Cog's metadata, and write config and manifest into the content store.
public final class BuildSession {
    let plan: BuildPlan
    public let projectDirectory: String
    public let settings: BuildSettings
    let progress: any BuildProgress
    /// Set by Ctrl-C: the running command is stopped and the build ends as interrupted.
    let cancel: CancelFlag
    /// Called once the steps start; from then on an interruption stops the running step instead of the process.
    let onStepsStarting: @Sendable () -> Void
    /// Called for each layer blob as soon as it is in the content store (to push while building): base layers
    /// with the image they come from, the build's own with nil. From several threads.
    let onLayerWritten: (@Sendable (Descriptor, ImageReference?) -> Void)?
    let runner: StepRunner
    let cache: StepCache
    /// `--cache-from` and `--cache-to`.
    let registryCache: RegistryStepCache
    /// Secrets given as values become files here, readable by the caller only, for this build.
    let secretFiles: String
    var state = ImageState(workingDirectory: "/", history: [], chainKey: StepCache.noParent)
    var capture: any StepCapture
    /// The chain key before the project copy: what `pip freeze` depends on (the project is not on its path).
    var chainKeyBeforeProject: Digest?
    /// Steps, plus the base, the metadata and the image config.
    var total: Int { steps.count + 3 }
    /// The plan's steps this build runs: all of them, or, with the project mounted, those before its copy.
    var steps: [BuildStep] {
        guard case .mounted = settings.project else { return plan.steps }
        return Array(plan.steps.prefix { if case .copyProject = $0 { false } else { true } })
    }
    /// The most layers an image may get: containerd and Docker refuse images of more than about 127 layers
    /// (overlay's own limit is 500 lower dirs), and an image someone builds on needs room above it.
    static let layerBudget = 100

    public init(
        plan: BuildPlan, projectDirectory: String, settings: BuildSettings, progress: any BuildProgress,
        cancel: CancelFlag = CancelFlag(), onStepsStarting: @escaping @Sendable () -> Void = {},
        onLayerWritten: (@Sendable (Descriptor, ImageReference?) -> Void)? = nil
    ) {
        self.plan = plan
        self.projectDirectory = projectDirectory
        self.settings = settings
        self.progress = progress
        self.cancel = cancel
        self.onStepsStarting = onStepsStarting
        self.onLayerWritten = onLayerWritten
        runner = StepRunner(
            sandbox: Sandbox(mapping: settings.mapping, confinement: settings.confinement),
            cacheRoot: settings.paths.root,
            host: settings.host)
        cache = StepCache(directory: settings.paths.steps)
        registryCache = RegistryStepCache(settings: settings, progress: progress)
        secretFiles = "\(settings.paths.scratch)/secrets-\(getpid())"
        capture = OverlayCapture(
            runner: runner, blobs: settings.paths.blobs, layers: settings.paths.layers,
            options: settings.layers, mapOwner: Self.ownerMapping(settings.mapping))
    }

    /// Runs the build.
    /// - Returns: the image (its blobs in the content store) and where its base came from.
    public func run() async throws -> BuiltImage {
        removeWhatKilledBuildsLeft()
        if let whole = try await buildFromCaches() { return whole }
        let base = try await pullBase()
        let baseCounts = (layers: state.layers.count, history: state.history.count)
        try chooseCapture()
        try FileSystem.makeDirectory(secretFiles)
        chmod(secretFiles, 0o700)
        defer { FileSystem.remove(secretFiles) }
        onStepsStarting()
        let metadata: CogMetadata
        do {
            try await runSteps()
            if cancel.isSet { throw BuildError.interrupted }
            let facts =
                settings.project == .copied ? "pip freeze and OpenAPI schema" : "OpenAPI schema of the mounted project"
            progress.step(total - 1, of: total, facts, cached: false)
            metadata = try await CogFinishing(session: self).readMetadata()
            try await settle()
            if cancel.isSet { throw BuildError.interrupted }
        } catch {
            try? await registryCache.awaitImports()
            try? await settle()  // the steps that finished are cached for the next try
            throw error
        }
        if settings.project == .copied, let schema = metadata.schema {
            let key = try WholeBuild.key(after: state.chainKey, plan: plan, settings: settings)
            try await addSchemaLayer(schema)
            if settings.schemaFile == nil { try keepWholeBuild(under: key, metadata: metadata, after: baseCounts) }
        } else if let schema = metadata.schema {
            try writeMountedSchema(schema)
        }
        await registryCache.export(from: cache, blobs: settings.paths.blobs)
        progress.step(total, of: total, "write image config and manifest", cached: false)
        let image = try assemble(base: base, metadata: metadata)
        return BuiltImage(
            image: image, baseReference: base.reference, baseImage: base.image, schema: metadata.schema)
    }

    /// What killed builds were writing: scratch dirs, and blobs and layer dirs under temporary names.
    private func removeWhatKilledBuildsLeft() {
        runner.removeStaleScratch()
        for directory in ["\(settings.paths.blobs.root)/sha256", "\(settings.paths.layers.root)/sha256"] {
            StaleFiles.removeTemporaries(in: directory)
        }
    }

    /// The snapshot method where overlayfs cannot be mounted (or when asked for), the overlay method otherwise.
    private func chooseCapture() throws {
        let forced = settings.forceSnapshotCapture || runner.sandbox.confinement.chrootOnly
        let lowest = state.layers.first?.directory
        guard forced || !(lowest.map { OverlayCapture.works(runner: runner, lower: $0) } ?? true) else { return }
        if !forced {
            progress.warning(
                "overlayfs cannot be mounted here: steps run in a full copy of the image and are captured by comparing snapshots (slower)"
            )
        }
        capture = try SnapshotCapture(
            runner: runner, blobs: settings.paths.blobs, layers: settings.paths.layers,
            options: settings.layers, mapOwner: Self.ownerMapping(settings.mapping))
    }

    /// Single-mapping rootless builds see the caller's files as root's: map the caller back to 0. (Inside cog's
    /// user namespace the ids on disk already are the image's.)
    static func ownerMapping(_ mapping: IDMapping) -> (@Sendable (Int, Int) -> (uid: Int, gid: Int))? {
        guard mapping == .single else { return nil }
        let uid = Int(getuid())
        let gid = Int(getgid())
        return { owner, group in (owner == uid ? 0 : owner, group == gid ? 0 : group) }
    }

    /// Tells the listener about a layer blob now in the store.
    func layerWritten(_ descriptor: Descriptor, from source: ImageReference? = nil) {
        onLayerWritten?(descriptor, source)
    }

    /// Tells the listener once a step's layer blob is written, without waiting for it here.
    func announceWhenWritten(_ layer: LayerInProgress) {
        guard let onLayerWritten else { return }
        Task {
            if let written = try? await Blocking.run({ try layer.writtenLayer() }) {
                onLayerWritten(written.descriptor, nil)
            }
        }
    }

    static func seconds(since start: Date, until end: Date = Date()) -> String {
        String(format: "%.1f s", end.timeIntervalSince(start))
    }
}

/// A finished build: the image (its blobs in the content store) and where its base came from.
public struct BuiltImage: Sendable {
    public let image: StoredImage
    public let baseReference: ImageReference
    public let baseImage: StoredImage
    /// The OpenAPI schema the model serves (with the project mounted, from the project as it is now); nil when
    /// none was made (`cog exec`).
    public let schema: String?
}
