import Foundation
import Layers
import OCI
import Registry

/// Executes a build plan: pulls the base, runs each step in the sandbox (or takes it from the step cache),
/// adds the project and the OpenAPI schema, and assembles the image config and manifest in the content store.
struct ImageBuilder {
    let plan: BuildPlan
    let projectDirectory: String
    let paths: CogPaths
    let secrets: [BuildSecret]
    let noCache: Bool
    let reporter: BuildReporter
    let layerOptions: LayerOptions
    let settings: RegistrySettings
    /// `--openapi-schema`: a schema to use instead of generating one.
    var schemaFile: String? = nil
    /// The steps' network (`--network`).
    var network: Confinement.Network = .isolated
    /// Ctrl-C handling; nil when the caller handles signals itself.
    var interruption: Interruption? = nil
    var cancel: CancelFlag { interruption?.flag ?? Self.neverSet }
    private static let neverSet = CancelFlag()

    /// A finished build: the image (its blobs in `paths.blobs`) and where its base came from.
    struct Built {
        let image: StoredImage
        let baseReference: ImageReference
        let baseImage: StoredImage
    }

    var created: String {
        let date = Date(timeIntervalSince1970: TimeInterval(layerOptions.sourceDateEpoch))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// What shapes every layer blob besides its content: a step cached under other settings is not reused.
    var layerSettings: String {
        "layers \(layerOptions.compression.rawValue) level \(layerOptions.level) epoch \(layerOptions.sourceDateEpoch)"
            + (IDMapping.detect() == .single ? " owners single" : "")
    }

    func build() async throws -> Built {
        let runner = StepRunner(sandbox: Sandbox(confinement: .detect(network: network)), cacheRoot: paths.root)
        runner.removeStaleScratch()
        // What killed builds were writing: blobs and layer dirs under temporary names.
        for directory in ["\(paths.root)/blobs/sha256", "\(paths.layers.root)/sha256"] { FileSystem.removeStaleTemporaries(in: directory) }
        let cache = StepCache(directory: paths.steps)
        let total = plan.steps.count + 3

        // MARK: base image
        reporter.step(1, of: total, "FROM \(plan.baseImage)")
        let baseReference = try ImageReference(parsing: plan.baseImage)
        // Each base layer is unpacked as soon as it has arrived, while the others download.
        let unpacker = LayerUnpacker(store: paths.layers, blobs: paths.blobs)
        let unpackStart = Date()
        let unpacked = LockedSet()
        let layerStore = paths.layers
        let base: StoredImage
        do {
            base = try await ImageTransfer(settings: settings, progress: reporter).pull(baseReference, into: paths.blobs) { layer, diffID in
                if !layerStore.contains(diffID) { unpacked.insert(diffID.description) }
                unpacker.start(blob: layer.digest, diffID: diffID)
            }
        } catch {
            unpacker.cancel() // layers not started yet are skipped; those started finish, so none is cut off
            unpacker.wait()
            throw error
        }
        var history = base.configuration.history ?? []
        // Keep history aligned with the layers (image-spec config.md): a base without it gets one entry per layer.
        let recorded = history.filter { $0.emptyLayer != true }.count
        if recorded < base.manifest.layers.count {
            history += (recorded..<base.manifest.layers.count).map { _ in .init(createdBy: "layer of \(baseReference)") }
        }
        var state = BuildState(layers: [], environment: [], workingDirectory: base.configuration.config?.workingDir ?? "/",
                               history: history, chainKey: StepCache.key(parent: base.descriptor.digest, material: layerSettings))
        let directories = try unpacker.directories(for: zip(base.manifest.layers, base.configuration.rootfs.diffIDs).map { ($0.0.digest, $0.1) })
        for (layer, (diffID, directory)) in zip(base.manifest.layers, zip(base.configuration.rootfs.diffIDs, directories)) {
            var oci = layer
            oci.mediaType = layer.mediaType.ociEquivalent
            state.layers.append(.init(descriptor: oci, diffID: diffID, directory: directory))
        }
        for item in base.configuration.config?.env ?? [] {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            state.set(parts[0], parts.count > 1 ? parts[1] : "")
        }
        if unpacked.count > 0 {
            reporter.info("   pulled and unpacked \(unpacked.count) base layer\(unpacked.count == 1 ? "" : "s") in \(Self.seconds(since: unpackStart))")
        }
        reporter.info("   running steps \(runner.sandbox.mapping); \(runner.sandbox.confinement)")
        Self.warnAboutConfinement(runner.sandbox.confinement, reporter: reporter)
        // MARK: capture method
        var flat: FlatTree?
        let forced = ProcessInfo.processInfo.environment["COG_CAPTURE"] == "snapshot"
        if forced || !(state.layers.first.map { FlatTree.overlayWorks(runner: runner, lower: $0.directory) } ?? true) {
            if !forced { reporter.warning("overlayfs cannot be mounted here: steps run in a full copy of the image and are captured by comparing snapshots (slower)") }
            flat = try FlatTree(scratch: "\(paths.root)/scratch", blobs: paths.blobs)
        }

        // MARK: steps
        // Secrets given as environment variables become files here, readable by the caller only, for this build.
        let secretFiles = "\(paths.root)/scratch/secrets-\(getpid())"
        try FileSystem.makeDirectory(secretFiles)
        chmod(secretFiles, 0o700)
        defer { FileSystem.remove(secretFiles) }
        let freeze: String, schema: String
        do {
            interruption?.stepsRunning = true
            for (offset, step) in plan.steps.enumerated() {
                if cancel.isSet { throw BuildError.interrupted }
                try await execute(step, index: offset + 2, total: total, state: &state, runner: runner, cache: cache, secretFiles: secretFiles, flat: flat)
            }

            // MARK: metadata read from the built filesystem
            if cancel.isSet { throw BuildError.interrupted }
            reporter.step(total - 1, of: total, "pip freeze and OpenAPI schema")
            let introspection = Introspection(runner: runner, flat: flat, cancel: cancel)
            freeze = try introspection.pipFreeze(state: state)
            schema = try schemaFile.map(Self.readSchema) ?? introspection.openAPISchema(state: state, plan: plan)
            try settle(&state, cache: cache, runner: runner)
            if cancel.isSet { throw BuildError.interrupted }
        } catch {
            try? settle(&state, cache: cache, runner: runner) // the steps that finished are cached for the next try
            throw error
        }
        let schemaLayer = try LayerWriter.write(entries: Self.fileEntries(path: "src/.cog/openapi_schema.json", contents: Array(schema.utf8), in: state),
                                                to: paths.blobs, options: layerOptions)
        let schemaDirectory = try paths.layers.unpack(blob: paths.blobs.path(for: schemaLayer.descriptor.digest), diffID: schemaLayer.diffID)
        state.append(schemaLayer, directory: schemaDirectory, createdBy: "COPY openapi_schema.json /src/.cog/", created: created)

        // MARK: config and manifest
        reporter.step(total, of: total, "write image config and manifest")
        let image = try assemble(state: state, base: base, baseReference: baseReference, freeze: freeze, schema: schema)
        return Built(image: image, baseReference: baseReference, baseImage: base)
    }

    /// One warning line when the confinement is weaker than the default, saying what and why.
    static func warnAboutConfinement(_ confinement: Confinement, reporter: BuildReporter) {
        guard !confinement.shortfalls.isEmpty else { return }
        reporter.warning("weaker confinement: " + confinement.shortfalls.joined(separator: "; "))
    }

    // MARK: one step

    private func execute(_ step: BuildStep, index: Int, total: Int, state: inout BuildState, runner: StepRunner,
                         cache: StepCache, secretFiles: String, flat: FlatTree?) async throws {
        switch step {
        case let .env(variables):
            reporter.step(index, of: total, "ENV " + variables.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
            for variable in variables {
                let current = state
                state.set(variable.name, variable.expandedValue { current.value(of: $0) })
            }
            state.chainKey = StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            state.history.append(.init(created: created, createdBy: "ENV", emptyLayer: true))
        case let .workdir(path):
            reporter.step(index, of: total, "WORKDIR \(path)")
            state.workingDirectory = path
            state.chainKey = StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            if !state.exists(path) {
                let entries = Self.directoryEntries(for: String(path.drop { $0 == "/" }), in: state)
                try addLayer(entries: entries, createdBy: "WORKDIR \(path)", state: &state)
            }
        case let .copyFile(path, contents, mode):
            reporter.step(index, of: total, "COPY \(path)")
            state.chainKey = StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            var entries = Self.fileEntries(path: String(path.drop { $0 == "/" }), contents: contents, in: state)
            entries[entries.count - 1].mode = mode
            try addLayer(entries: entries, createdBy: "COPY \(path)", state: &state)
        case let .copyArtifacts(artifacts):
            reporter.step(index, of: total, "COPY local packages to \(LocalArtifact.directory)/")
            state.chainKey = StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            var entries: [TarEntry] = []
            for artifact in artifacts {
                let path = String(artifact.target.drop { $0 == "/" })
                for parent in Self.directoryEntries(for: (path as NSString).deletingLastPathComponent, in: state)
                where !entries.contains(where: { $0.path == parent.path }) { entries.append(parent) }
                guard let size = (try? FileManager.default.attributesOfItem(atPath: artifact.source))?[.size] as? Int64 else {
                    throw BuildError.output("cannot read \(artifact.source), named in the requirements")
                }
                entries.append(TarEntry(path: path, kind: .regular(.file(path: artifact.source, size: size)), mode: 0o644))
            }
            try addLayer(entries: entries.sorted { layerOrder($0.path, $1.path) }, createdBy: "COPY local_package_artifacts/ \(LocalArtifact.directory)/", state: &state)
        case let .copyProject(destination, excludes):
            reporter.step(index, of: total, "COPY . \(destination)")
            let entries = try ProjectFiles(directory: projectDirectory, excludes: excludes).entries(destination: destination)
            try addLayer(entries: entries, createdBy: "COPY . \(destination)", state: &state)
            state.chainKey = StepCache.key(parent: state.chainKey, material: "copy-project \(state.layers.last?.diffID.description ?? "")")
        case let .run(run):
            try runStep(run, step: step, index: index, total: total, state: &state, runner: runner, cache: cache, secretFiles: secretFiles, flat: flat)
        }
    }

    private func runStep(_ run: RunStep, step: BuildStep, index: Int, total: Int, state: inout BuildState, runner: StepRunner,
                         cache: StepCache, secretFiles: String, flat: FlatTree?) throws {
        var secretMounts: [(source: String, target: String)] = []
        var caches: [(id: String, target: String)] = []
        for mount in run.mounts {
            switch mount {
            case let .cache(target, id): caches.append((id, target))
            case let .secret(id, target):
                guard let secret = secrets.first(where: { $0.id == id }) else { throw BuildError.missingSecret(id: id, step: run.summary) }
                let absolute = target.hasPrefix("/") ? target : "\(state.workingDirectory)/\(target)"
                secretMounts.append((try secret.materialize(in: secretFiles), absolute))
            }
        }
        // Secrets enter the key by id only: changing a secret's content does not rebuild, and no content is stored.
        let key = StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
        if !noCache, let entry = cache.lookup(key, blobs: paths.blobs) {
            reporter.step(index, of: total, "RUN \(run.summary)", cached: true)
            let directory = try paths.layers.unpack(blob: paths.blobs.path(for: entry.digest), diffID: entry.diffID)
            state.append(WrittenLayer(descriptor: Descriptor(mediaType: entry.mediaType, digest: entry.digest, size: entry.size), diffID: entry.diffID, uncompressedSize: 0),
                         directory: directory, createdBy: "RUN \(run.command)", created: created)
            state.chainKey = key
            return
        }
        reporter.step(index, of: total, "RUN \(run.summary)")
        let tail = OutputTail()
        let reporter = self.reporter
        // SOURCE_DATE_EPOCH makes pip and py_compile write hash-checked .pyc files instead of ones stamped with
        // the build's clock, so the same inputs give the same layer.
        let environment = state.environmentList + ["SOURCE_DATE_EPOCH=\(layerOptions.sourceDateEpoch)"]
        var request = StepRunner.Step(command: ["/bin/sh", "-c", run.command], environment: environment,
                                      workingDirectory: state.workingDirectory, caches: caches, secrets: secretMounts)
        request.extraCertificates = plan.caCertificate
        let output: @Sendable (String) -> Void = { line in
            tail.add(line)
            reporter.output(line)
        }
        if let flat {
            let (status, written) = try flat.run(request, layers: state.layers, runner: runner, options: layerOptions,
                                                  mapOwner: ownerMapping(runner), cancel: cancel, output: output)
            guard status == 0, let layer = written else {
                if cancel.isSet { throw BuildError.interrupted }
                throw BuildError.stepFailed(step: run.summary, status: status, lastLines: tail.lines)
            }
            let directory = try paths.layers.unpack(blob: paths.blobs.path(for: layer.descriptor.digest), diffID: layer.diffID)
            try cache.store(.init(digest: layer.descriptor.digest, diffID: layer.diffID, size: layer.descriptor.size, mediaType: layer.descriptor.mediaType), for: key)
            state.append(layer, directory: directory, createdBy: "RUN \(run.command)", created: created)
            state.chainKey = key
            return
        }
        let started = Date()
        let outcome = try runner.run(request, lowers: state.lowerDirectories, cancel: cancel, output: output)
        let ran = Date()
        guard outcome.status == 0 else {
            runner.discard(outcome)
            if cancel.isSet { throw BuildError.interrupted }
            if outcome.timedOut { throw BuildError.stepTimedOut(step: run.summary) }
            throw BuildError.stepFailed(step: run.summary, status: outcome.status, lastLines: tail.lines)
        }
        // The layer is written on another thread while the next steps run on top of the (cleaned) upper dir.
        do { try LayerCapture.clean(upper: outcome.upper, createdMountpoints: outcome.createdMountpoints) } catch {
            runner.discard(outcome)
            throw error
        }
        let (upper, blobs, options, mapOwner) = (outcome.upper, paths.blobs, layerOptions, ownerMapping(runner))
        let work = BackgroundWork { try LayerCapture.write(upper: upper, into: blobs, options: options, mapOwner: mapOwner) }
        reporter.info("   ran in \(Self.seconds(since: started, until: ran)); its layer is written while the build goes on")
        let placeholder = WrittenLayer(descriptor: Descriptor(mediaType: layerOptions.compression.layerMediaType, digest: key, size: 0), diffID: key, uncompressedSize: 0)
        state.append(placeholder, directory: upper, createdBy: "RUN \(run.command)", created: created)
        state.pending.append(PendingLayer(index: state.layers.count - 1, key: key, outcome: outcome, work: work))
        state.chainKey = key
    }

    /// Waits for the layers being written in the background, then moves each step's upper dir into the layer
    /// store and records the step in the cache. Also called when the build fails, so that finished steps are
    /// cached for the next try. No sandbox may be using the upper dirs by then.
    func settle(_ state: inout BuildState, cache: StepCache, runner: StepRunner) throws {
        guard !state.pending.isEmpty else { return }
        let start = Date()
        var firstError: Error?
        var bytes: Int64 = 0
        for pending in state.pending {
            do {
                let layer = try pending.work.get()
                let directory = try paths.layers.adopt(directory: pending.outcome.upper, diffID: layer.diffID)
                // A later step's key names the earlier steps: once one failed, later ones are not cached either.
                if firstError == nil {
                    try cache.store(.init(digest: layer.descriptor.digest, diffID: layer.diffID, size: layer.descriptor.size,
                                          mediaType: layer.descriptor.mediaType), for: pending.key)
                }
                state.layers[pending.index].descriptor = layer.descriptor
                state.layers[pending.index].diffID = layer.diffID
                state.layers[pending.index].directory = directory
                bytes += layer.descriptor.size
            } catch {
                firstError = firstError ?? error
            }
            runner.discard(pending.outcome)
        }
        reporter.info("   \(state.pending.count) step layer\(state.pending.count == 1 ? "" : "s") (\(BuildReporter.bytes(bytes))) written; waited \(Self.seconds(since: start)) for them")
        state.pending = []
        if let firstError { throw firstError }
    }

    static func seconds(since start: Date, until end: Date = Date()) -> String {
        String(format: "%.1f s", end.timeIntervalSince(start))
    }

    /// Single-mapping rootless builds see the caller's files as root's: map the caller back to 0. (Inside cog's
    /// user namespace the ids on disk already are the image's.)
    private func ownerMapping(_ runner: StepRunner) -> (@Sendable (Int, Int) -> (uid: Int, gid: Int))? {
        guard runner.sandbox.mapping == .single else { return nil }
        let uid = Int(getuid()), gid = Int(getgid())
        return { owner, group in (owner == uid ? 0 : owner, group == gid ? 0 : group) }
    }

    /// The schema file given with `--openapi-schema`, checked to be a JSON object.
    static func readSchema(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BuildError.schema("--openapi-schema \(path): cannot read the file")
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw BuildError.schema("--openapi-schema \(path): not a JSON object (give the schema cog serves at /openapi.json)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func addLayer(entries: [TarEntry], createdBy: String, state: inout BuildState) throws {
        let layer = try LayerWriter.write(entries: entries, to: paths.blobs, options: layerOptions)
        let directory = try paths.layers.unpack(blob: paths.blobs.path(for: layer.descriptor.digest), diffID: layer.diffID)
        state.append(layer, directory: directory, createdBy: createdBy, created: created)
    }

    /// `path` and the directories above it; those the image already has keep their mode and owner (a COPY to
    /// /tmp must not turn /tmp's 1777 into 0755), the others are created 0755 root's.
    static func directoryEntries(for path: String, in state: BuildState) -> [TarEntry] {
        IgnoreMatcher.prefixes(of: path).map { directory in
            var entry = TarEntry.directory(directory)
            if let existing = state.directoryAttributes(directory) { (entry.mode, entry.uid, entry.gid) = existing }
            return entry
        }
    }

    /// A file and the directories above it.
    static func fileEntries(path: String, contents: [UInt8], in state: BuildState) -> [TarEntry] {
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? [] : directoryEntries(for: parent, in: state)) + [.file(path, contents)]
    }
}

/// A set several threads add to.
final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var items: Set<String> = []
    func insert(_ item: String) { lock.withLock { _ = items.insert(item) } }
    var count: Int { lock.withLock { items.count } }
}

/// The last lines a step printed, for the error message when it fails.
final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [String] = []
    func add(_ line: String) {
        lock.lock()
        buffer.append(line)
        if buffer.count > 25 { buffer.removeFirst(buffer.count - 25) }
        lock.unlock()
    }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return buffer }
}
