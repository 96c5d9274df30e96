import Foundation
import Layers
import OCI
import Registry

/// A whole build kept in a step cache: the image's own layers (every step's, the project's, the schema's) and
/// Cog's metadata, under a key that covers the base, every step, the project's layers and the finishing. A build
/// whose key is there needs no image tree at all: nothing is unpacked and neither a step nor Python runs, so a
/// machine with an empty cache builds what another machine exported about as fast as it can download the image.
enum WholeBuild {
    static let pipFreeze = "pip-freeze"
    static let schema = "openapi-schema"
    static let history = "history"

    /// The entry's key: the chain after the project copy, and what the finishing adds (the scripts that make the
    /// schema, this cog's version, the version label the schema repeats, the history's timestamp).
    static func key(after chainKey: Digest, plan: BuildPlan, settings: BuildSettings) throws -> Digest {
        let scripts = try ["openapi_schema_static", "openapi_schema"].map(CogFinishing.script).joined(separator: "\n")
        return try StepCache.key(
            parent: chainKey,
            material: [
                "whole-build", CogVersion.this, plan.image.labels[BuildPlan.Label.version] ?? "", settings.created,
                plan.predictor ?? "", plan.trainer ?? "",
                try Digest.sha256(Data(scripts.utf8)).description,
            ].joined(separator: "\n"))
    }

    /// The facts an entry keeps: Cog's metadata and the history of the build's own layers.
    static func facts(metadata: CogMetadata, history: [ImageConfiguration.History]) throws -> [String: String] {
        var facts = [Self.history: String(decoding: try CanonicalJSON.encode(history), as: UTF8.self)]
        facts[Self.pipFreeze] = metadata.pipFreeze
        facts[Self.schema] = metadata.schema
        return facts
    }
}

extension BuildSession {
    /// The build taken whole from the step caches (local, then `--cache-from`) when every step and Cog's
    /// metadata are there; nil otherwise, with nothing printed and nothing changed but blobs added to the store,
    /// and the build goes the usual way.
    func buildFromCaches() async throws -> BuiltImage? {
        guard settings.project == .copied, settings.schemaFile == nil, !settings.noCache else { return nil }
        let reference = try ImageReference(parsing: plan.baseImage)
        let paths = settings.paths
        let transfer = ImageTransfer(settings: settings.registry, credentials: settings.credentials)
        // A base that cannot be resolved is reported by the usual way.
        guard let baseImage = try? await transfer.pullManifest(reference, into: paths.blobs) else { return nil }
        state = try initialState(
            of: baseImage, reference: reference,
            directories: baseImage.configuration.rootfs.diffIDs.map { paths.layers.directory(for: $0) })
        let baseHistory = state.history.count
        var lines: [(index: Int, title: String, note: String?)] = [(1, "FROM \(plan.baseImage)", nil)]
        var project: [Digest] = []
        var imports: [(hit: RegistryStepCache.Hit, key: Digest)] = []
        var layerCount: Int? = state.layers.count  // nil after a WORKDIR, which adds a layer or not
        for (offset, step) in steps.enumerated() {
            let index = offset + 2
            switch step {
            case .env(let variables):
                for variable in variables {
                    let current = state
                    state.set(variable.name, variable.expandedValue { current.value(of: $0) })
                }
                state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
                lines.append((index, "ENV " + variables.map { "\($0.name)=\($0.value)" }.joined(separator: " "), nil))
            case .workdir(let path):
                state.workingDirectory = path
                state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
                layerCount = nil
                lines.append((index, "WORKDIR \(path)", nil))
            case .copyFile(let path, _, _):
                state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
                layerCount = layerCount.map { $0 + 1 }
                lines.append((index, "COPY \(path)", nil))
            case .copyArtifacts:
                state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
                layerCount = layerCount.map { $0 + 1 }
                lines.append((index, "COPY local packages to \(LocalArtifact.directory)/", nil))
            case .copyProject(let destination, let excludes):
                chainKeyBeforeProject = state.chainKey
                let before = state.layers.count
                try await copyProject(destination: destination, excludes: excludes, unpack: false)
                for case .written(let descriptor, _, _) in state.layers[before...] { project.append(descriptor.digest) }
                lines.append((index, "COPY . \(destination)", nil))
            case .run(let run):
                // The package split depends on the layers below: unknown after a WORKDIR.
                guard let count = layerCount ?? (run.splitsPackages ? nil : 0) else { return nil }
                let key = try runKey(
                    run, material: step.cacheKeyMaterial,
                    split: packageSplit(for: run, index: index, layerCount: count))
                registryCache.noteStep(key)
                if let entries = cache.lookup(key, blobs: paths.blobs) {
                    layerCount = layerCount.map { $0 + entries.count }
                    lines.append((index, "RUN \(run.summary)", nil))
                } else if let hit = await registryCache.lookup(key) {
                    imports.append((hit, key))
                    layerCount = layerCount.map { $0 + hit.entry.layers.count }
                    let bytes = hit.entry.layers.reduce(Int64(0)) { $0 + $1.descriptor.size }
                    lines.append(
                        (
                            index, "RUN \(run.summary)",
                            "   imported from the registry cache \(hit.source.name) (\(ByteCount(bytes)))"
                        ))
                } else {
                    return nil
                }
                state.chainKey = key
            }
        }
        let key = try WholeBuild.key(after: state.chainKey, plan: plan, settings: settings)
        guard let whole = await wholeEntry(key, project: project) else { return nil }
        // The layers: the base's and the entry's, downloaded (a cache failing now gives up the whole way).
        async let basePulled = transfer.pull(reference, into: paths.blobs)
        if let hit = whole.hit {
            do { try await registryCache.fetch(hit, into: paths.blobs) } catch {
                _ = try? await basePulled
                return nil
            }
        }
        _ = try await basePulled
        // The steps' own entries too, for later builds here (where they agree with the whole), their diffIDs to be
        // checked when first unpacked.
        let described = Dictionary(whole.layers.map { ($0.digest, $0.diffID) }, uniquingKeysWith: { first, _ in first })
        for (hit, stepKey) in imports where hit.entries.allSatisfy({ described[$0.digest] == $0.diffID }) {
            try cache.store(
                entries: hit.entries.map { entry in
                    var unchecked = entry
                    unchecked.unchecked = true
                    return unchecked
                }, for: stepKey)
        }
        try cache.store(entries: whole.layers, facts: whole.facts, for: key)
        registryCache.noteStep(key)
        state.layers.removeSubrange(baseImage.manifest.layers.count...)
        state.history.removeSubrange(baseHistory...)
        for layer in whole.layers {
            state.layers.append(
                .written(
                    descriptor: layer.descriptor, diffID: layer.diffID,
                    directory: paths.layers.directory(for: layer.diffID)))
        }
        state.history += whole.history
        let base = BaseImage(reference: reference, image: baseImage)
        return try await finishWhole(base: base, metadata: whole.metadata, lines: lines)
    }

    /// Prints what the build did, exports, and writes the image.
    private func finishWhole(
        base: BaseImage, metadata: CogMetadata, lines: [(index: Int, title: String, note: String?)]
    )
        async throws -> BuiltImage
    {
        for line in lines {
            progress.step(line.index, of: total, line.title, cached: true)
            if let note = line.note { progress.info(note) }
        }
        progress.step(total - 1, of: total, "pip freeze and OpenAPI schema", cached: true)
        progress.info("   the whole build was in the step cache: nothing unpacked, nothing run")
        for layer in base.image.manifest.layers { layerWritten(layer, from: base.reference) }
        for case .written(let descriptor, _, _) in state.layers.dropFirst(base.image.manifest.layers.count) {
            layerWritten(descriptor)
        }
        await registryCache.export(from: cache, blobs: settings.paths.blobs)
        progress.step(total, of: total, "write image config and manifest", cached: false)
        let image = try assemble(base: base, metadata: metadata)
        return BuiltImage(image: image, baseReference: base.reference, baseImage: base.image, schema: metadata.schema)
    }

    /// The whole build's entry under `key`, local or from a `--cache-from` cache, when it holds the project's
    /// layers (written here) and Cog's metadata.
    private func wholeEntry(_ key: Digest, project: [Digest]) async -> WholeEntry? {
        var found: WholeEntry?
        if let local = cache.lookupWithFacts(key, blobs: settings.paths.blobs) {
            found = WholeEntry(layers: local.layers, facts: local.facts, hit: nil)
        } else if let hit = await registryCache.lookup(key) {
            found = WholeEntry(layers: hit.entries, facts: hit.entry.facts, hit: hit)
        }
        guard let found, found.facts[WholeBuild.pipFreeze] != nil, found.facts[WholeBuild.schema] != nil,
            let history = found.facts[WholeBuild.history],
            (try? JSONDecoder().decode([ImageConfiguration.History].self, from: Data(history.utf8))) != nil
        else { return nil }
        let digests = Set(found.layers.map(\.digest))
        return project.allSatisfy(digests.contains) ? found : nil
    }
}

/// A whole build's entry as found.
private struct WholeEntry {
    let layers: [StepCache.Entry]
    let facts: [String: String]
    /// Where it came from when not the local cache.
    let hit: RegistryStepCache.Hit?

    var metadata: CogMetadata {
        CogMetadata(pipFreeze: facts[WholeBuild.pipFreeze], schema: facts[WholeBuild.schema])
    }
    var history: [ImageConfiguration.History] {
        (try? JSONDecoder().decode(
            [ImageConfiguration.History].self, from: Data((facts[WholeBuild.history] ?? "").utf8)))
            ?? []
    }
}

extension BuildSession {
    /// Stores the finished build's own layers and Cog's metadata under `key` in the local step cache (and notes it
    /// for `--cache-to`), for `buildFromCaches`.
    func keepWholeBuild(under key: Digest, metadata: CogMetadata, after base: (layers: Int, history: Int)) throws {
        let layers = try state.layers.dropFirst(base.layers).map { layer -> StepCache.Entry in
            guard case .written(let descriptor, let diffID, _) = layer else { throw BuildError.layerNotSettled }
            return StepCache.Entry(
                digest: descriptor.digest, diffID: diffID, size: descriptor.size, mediaType: descriptor.mediaType)
        }
        let facts = try WholeBuild.facts(metadata: metadata, history: Array(state.history.dropFirst(base.history)))
        try cache.store(entries: layers, facts: facts, for: key)
        registryCache.noteStep(key)
    }
}
