import Foundation
import Layers
import OCI

extension BuildSession {
    /// A RUN step: from the step cache when its key is there, else run by the capture method, its layer written
    /// while the build goes on.
    func runStep(_ run: RunStep, material: String, index: Int) async throws {
        let split = packageSplit(for: run, index: index, layerCount: state.layers.count)
        let key = try runKey(run, material: material, split: split)
        registryCache.noteStep(key)
        let entries = settings.noCache ? nil : cache.lookup(key, blobs: settings.paths.blobs)
        if !settings.noCache, entries == nil, let hit = await registryCache.lookup(key) {
            importStep(hit, run: run, key: key, index: index)
            return
        }
        if let entries, let directories = try await cachedLayers(entries) {
            progress.step(index, of: total, "RUN \(run.summary)", cached: true)
            for (entry, directory) in zip(entries, directories) {
                state.append(
                    .written(descriptor: entry.descriptor, diffID: entry.diffID, directory: directory),
                    createdBy: "RUN \(run.command)", created: settings.created, label: entry.label)
                layerWritten(entry.descriptor)
            }
            state.chainKey = key
            return
        }
        progress.step(index, of: total, "RUN \(run.summary)", cached: false)
        try await registryCache.awaitImports()  // the step runs on the imported layers' files
        let (secrets, caches) = try mounts(of: run)
        var request = StepRunner.Step(
            command: ["/bin/sh", "-c", run.command],
            // SOURCE_DATE_EPOCH makes pip and py_compile write hash-checked .pyc files instead of ones
            // stamped with the build's clock, so the same inputs give the same layer.
            environment: state.environmentList + ["SOURCE_DATE_EPOCH=\(settings.layers.sourceDateEpoch)"],
            workingDirectory: state.workingDirectory, caches: caches, secrets: secrets)
        request.extraCertificates = plan.caCertificate
        let tail = OutputTail()
        let (progress, capture, cancel, stack, step) = (
            self.progress, self.capture, self.cancel, state.stack(blobs: settings.paths.blobs), request
        )
        let started = Date()
        let outcome = try await Blocking.run {
            try capture.capture(step, on: stack, split: split, cancel: cancel) { line in
                tail.add(line)
                progress.output(line)
            }
        }
        switch outcome {
        case .failed(let status, let timedOut):
            if cancel.isSet { throw BuildError.interrupted }
            if timedOut { throw BuildError.stepTimedOut(step: run.summary) }
            throw BuildError.stepFailed(step: run.summary, status: status, lastLines: tail.lines)
        case .captured(let layers):
            let note = capture.method == .overlay ? "; its layer is written while the build goes on" : ""
            progress.info("   ran in \(Self.seconds(since: started))\(note)")
            let packages = layers.compactMap(\.label)
            if !packages.isEmpty {
                progress.info(
                    "   \(packages.count) package layer\(packages.count == 1 ? "" : "s"): \(packages.joined(separator: ", "))"
                )
            }
            for layer in layers {
                state.append(
                    .inProgress(layer, key: key), createdBy: "RUN \(run.command)", created: settings.created,
                    label: layer.label)
                announceWhenWritten(layer)
            }
            state.chainKey = key
        }
    }

    /// A RUN step's cache key. Secrets enter it by their mount's definition only (as in BuildKit): neither a
    /// secret's content nor whether one was given rebuilds the step, so `cog predict` (no secrets) reuses what
    /// `cog build --secret` built, and no content is stored.
    func runKey(_ run: RunStep, material: String, split: LayerSplit) throws -> Digest {
        try StepCache.key(
            parent: state.chainKey,
            material: material
                + (run.splitsPackages ? "\npackages \(split.minimumPackageBytes) \(split.maximumPackageLayers)" : ""))
    }

    /// The split for a package step over `layerCount` layers, within the image's layer budget; none for other
    /// steps.
    func packageSplit(for run: RunStep, index: Int, layerCount: Int) -> LayerSplit {
        guard run.splitsPackages else { return .none }
        var split = settings.packageSplit
        // Room for every later step, the weights layers and the schema layer.
        let reserved = layerCount + (total - index) + settings.weights.maximumLayers + 1
        split.maximumPackageLayers = max(0, min(split.maximumPackageLayers, Self.layerBudget - reserved))
        return split
    }

    /// The layer dirs of a cached step, unpacked when absent; nil when a blob turns out corrupt (removed, and the
    /// step runs again).
    private func cachedLayers(_ entries: [StepCache.Entry]) async throws -> [String]? {
        let paths = settings.paths
        do {
            return try await Blocking.run {
                try entries.map { entry in
                    try paths.layers.unpack(blob: paths.blobs.path(for: entry.digest), diffID: entry.diffID) {
                        try paths.blobs.verifyIntegrity(entry.digest, size: entry.size)
                        if entry.unchecked == true {
                            try DiffIDMismatch.check(entry.digest, in: paths.blobs, claimed: entry.diffID)
                        }
                    }
                }
            }
        } catch let error as OCIError {
            guard case .corruptBlob = error else { throw error }
            progress.warning("\(error); running the step again")
            return nil
        } catch let error as DiffIDMismatch {
            progress.warning("\(error); running the step again")
            return nil
        }
    }

    /// The step's secret files and cache mounts. A secret not given is left out with a warning, as BuildKit leaves
    /// out an optional secret; one whose mount is `required` stops the build.
    private func mounts(of run: RunStep) throws -> (
        secrets: [(source: String, target: String)], caches: [(id: String, target: String)]
    ) {
        var secrets: [(source: String, target: String)] = []
        var caches: [(id: String, target: String)] = []
        for mount in run.mounts {
            switch mount {
            case .cache(let target, let id): caches.append((id, target))
            case .secret(let id, let target, let required):
                let file =
                    try settings.secrets.last(where: { $0.id == id })?.materialize(in: secretFiles)
                    ?? .failure(.notGiven)
                switch file {
                case .success(let path):
                    let absolute = target.hasPrefix("/") ? target : "\(state.workingDirectory)/\(target)"
                    secrets.append((path, absolute))
                case .failure(let why):
                    if required { throw BuildError.missingSecret(id: id, step: run.summary, why: why) }
                    progress.warning(
                        "secret \"\(id)\" is not mounted in this step: \(why) (the mount is optional; required: true makes it an error)"
                    )
                }
            }
        }
        return (secrets, caches)
    }

    /// Waits for the layers still being written, moves each into the layer store and records its step in the
    /// cache. Also called when the build fails, so that finished steps are cached for the next try. No step may
    /// run on top of them any more.
    func settle() async throws {
        let pending = state.layers.indices.filter { if case .inProgress = state.layers[$0] { true } else { false } }
        guard !pending.isEmpty else { return }
        let start = Date()
        var firstError: Error?
        var bytes: Int64 = 0
        // A step's layers are cached together, once all of them are written.
        var stepLayers: [(key: Digest, layers: [(layer: WrittenLayer, label: String?)])] = []
        for index in pending {
            guard case .inProgress(let layer, let key) = state.layers[index] else { continue }
            // A later step's key names the earlier steps: once one failed, later ones are neither kept nor cached.
            guard firstError == nil else {
                layer.abandon()
                continue
            }
            do {
                let stored = try await Blocking.run { try layer.finish() }
                if stepLayers.last?.key != key { stepLayers.append((key, [])) }
                stepLayers[stepLayers.count - 1].layers.append((stored.layer, layer.label))
                state.layers[index] = .written(
                    descriptor: stored.layer.descriptor, diffID: stored.layer.diffID, directory: stored.directory)
                layerWritten(stored.layer.descriptor)  // already announced when written; told again, in order
                bytes += stored.layer.descriptor.size
            } catch {
                firstError = error
                if stepLayers.last?.key == key { stepLayers.removeLast() }
            }
        }
        for (key, layers) in stepLayers { try cache.store(layers, for: key) }
        progress.info(
            "   \(pending.count) step layer\(pending.count == 1 ? "" : "s") (\(ByteCount(bytes))) written; waited \(Self.seconds(since: start)) for them"
        )
        if let firstError { throw firstError }
    }
}
