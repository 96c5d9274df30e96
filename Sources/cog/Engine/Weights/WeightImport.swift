import Foundation
import Layers
import OCI
import Registry

/// `cog weights import`: reads each weight's sources, puts the files into the local store, packs them into layers,
/// pushes each weight's artifact to the model's repository under its own tag, and records it in `weights.lock`
/// (rewritten only when an entry changed, and only once everything is pushed). Prints what Cog prints.
public struct WeightImport: Sendable {
    let loaded: LoadedConfig
    let model: ModelReference
    let store: WeightFileStore
    let blobs: BlobStore
    let transfer: ImageTransfer
    let log: @Sendable (String) -> Void

    public init(
        loaded: LoadedConfig, model: ModelReference, store: WeightFileStore, blobs: BlobStore,
        transfer: ImageTransfer, log: @escaping @Sendable (String) -> Void
    ) {
        (self.loaded, self.model, self.store, self.blobs, self.transfer, self.log) =
            (loaded, model, store, blobs, transfer, log)
    }

    /// One weight read from its sources: the files kept, and what the lockfile records of each source.
    struct Planned {
        var weight: WeightSource
        /// In the store already.
        var files: [WeightPacker.StoredFile]
        var sources: [WeightsLock.Source]
        var status: String
        /// Whether a file was new to the store.
        var added: Bool
        /// Files the patterns left out, with their sizes.
        var excluded: [(path: String, size: Int64)]
    }

    /// - Parameters:
    ///   - names: the weights to import; all when empty.
    ///   - dryRun: print the plan and stop (files hashed, nothing stored or pushed).
    ///   - verbose: list each weight's included and excluded files.
    public func run(names: [String], dryRun: Bool = false, verbose: Bool = false) async throws {
        let weights = try select(names)
        // Cog's project lock: two imports at once would each rewrite the lockfile from the same old one.
        try FileSystem.makeDirectory("\(loaded.projectDirectory)/.cog")
        let projectLock = try FileLock("\(loaded.projectDirectory)/.cog/cog.lock")
        defer { projectLock.release() }
        let previous = try WeightsLock.load(projectDirectory: loaded.projectDirectory)
        let planned = try weights.map { try plan($0, previous: previous?.entry(named: $0.name), store: !dryRun) }
        for item in planned {
            let mark = ["new": "+", "unchanged": "="][item.status] ?? "~"
            if item.weight.sources.count == 1 {
                log("\(mark) \(item.weight.name)  \(item.sources[0].uri) → \(item.weight.target)")
            } else {
                log("\(mark) \(item.weight.name)  → \(item.weight.target)")
                for (index, source) in item.sources.enumerated() { log("  source[\(index)]: \(source.uri)") }
            }
            log("  status: \(item.status)")
            log("  files: \(item.files.count)  size: \(Self.size(item.files.reduce(0) { $0 + $1.size }))")
            if verbose {
                if !item.excluded.isEmpty { log("  excluded (\(item.excluded.count) files):") }
                for file in item.excluded { log("    - \(file.path) (\(Self.size(file.size)))") }
                log("  included (\(item.files.count) files):")
                for file in item.files { log("    + \(file.path) (\(Self.size(file.size)))") }
            }
            log("")
        }
        if dryRun { return }
        log("Building \(planned.count) weight(s)...")
        var built: [(Planned, WeightArtifact)] = []
        // The packed layers are needed only until they are pushed (the store keeps the files they come from).
        defer { for layer in built.flatMap(\.1.layers) { blobs.remove(layer.descriptor.digest) } }
        for item in planned { built.append((item, try build(item))) }
        log("\nPushing \(built.count) weight(s) to \(model.repositoryName)...")
        let client = try transfer.client(for: model.registry)
        var lock = previous ?? WeightsLock()
        let now = WeightsLock.Entry.timestamp(Date())
        for (item, artifact) in built {
            let manifest: Data
            do {
                manifest = try await push(artifact, client: client)
            } catch {
                log("\(item.weight.name): FAILED")
                throw WeightsError.usage("push weight \"\(item.weight.name)\": \(error)")
            }
            log("\(item.weight.name): Pushed")
            log(
                "  \(item.weight.name): \(model.repositoryName):\(WeightArtifact.tag(name: artifact.name, setDigest: artifact.setDigest))"
            )
            var entry = try Self.entry(item, artifact, manifest: manifest, importedAt: now)
            if let old = lock.entry(named: entry.name), old.sameContent(as: entry) { entry.importedAt = old.importedAt }
            // Recorded as soon as it is pushed, so a later failure loses nothing already imported.
            let before = lock
            lock.upsert(entry)
            lock.envelopeFormat = WeightsLock.envelopeFormat
            if lock != before { try lock.save(projectDirectory: loaded.projectDirectory) }
        }
        let configured = Set(loaded.config.config.weights.map(\.name))
        let before = lock
        lock.weights.removeAll { !configured.contains($0.name) }
        if lock != before { try lock.save(projectDirectory: loaded.projectDirectory) }
        log("\nImported \(built.count) weight artifact(s) to \(model.repositoryName)")
        log("Total: \(Self.size(built.reduce(0) { $0 + $1.1.compressedSize }))")
    }

    private func select(_ names: [String]) throws -> [WeightSource] {
        let weights = loaded.config.config.weights
        guard !weights.isEmpty else { throw WeightsError.usage("no weights defined in cog.yaml") }
        if names.isEmpty { return weights }
        return try names.map { name in
            guard let weight = weights.first(where: { $0.name == name }) else {
                throw WeightsError.usage("weight \"\(name)\" not found in cog.yaml")
            }
            return weight
        }
    }

    /// Reads the sources (a later source's file replaces an earlier one's at the same path) and filters them.
    /// - Parameter store: copy the kept files into the store while hashing them (false: only hash them).
    func plan(_ weight: WeightSource, previous: WeightsLock.Entry?, store storing: Bool = true) throws -> Planned {
        var byPath: [String: WeightPacker.StoredFile] = [:]
        var excluded: [(path: String, size: Int64)] = []
        var sources: [WeightsLock.Source] = []
        var added = false
        for (index, location) in weight.sources.enumerated() {
            let inventory = try WeightInventory(uri: location.uri, projectDirectory: loaded.projectDirectory)
            guard !inventory.files.isEmpty else {
                throw WeightsError.source(
                    "weight \"\(weight.name)\": inventory is empty (\(inventory.uri) holds no files)")
            }
            let include = location.include.map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            let exclude = location.exclude.map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            let filter = try WeightFilter(include: include, exclude: exclude)
            let kept = inventory.files.filter { filter.keeps($0.path) }
            guard !kept.isEmpty else {
                func list(_ patterns: [String]) -> String {
                    "[" + patterns.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
                }
                throw WeightsError.source(
                    "plan weight \"\(weight.name)\": filter weight \"\(weight.name)\" source[\(index)]: include/exclude patterns matched zero files out of \(inventory.files.count) in the source\n  include: \(list(include))\n  exclude: \(list(exclude))\n  check your patterns — did you mean a different glob?"
                )
            }
            // One read of each file: the kept ones are copied into the store on the way, the others only hashed.
            var all: [(path: String, digest: Digest)] = []
            for file in inventory.files {
                guard filter.keeps(file.path) else {
                    all.append((file.path, try WeightFileStore.hash(file: file.absolutePath)))
                    excluded.append((file.path, file.size))
                    continue
                }
                let (digest, size, new) =
                    storing
                    ? try store.ingest(file: file.absolutePath)
                    : (try WeightFileStore.hash(file: file.absolutePath), file.size, false)
                added = added || new
                byPath[file.path] = WeightPacker.StoredFile(path: file.path, digest: digest, size: size)
                all.append((file.path, digest))
            }
            let fingerprint = try WeightSetDigest.of(all)
            sources.append(
                .init(uri: inventory.uri, fingerprint: fingerprint.description, include: include, exclude: exclude))
        }
        let files = byPath.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        let status: String
        if let previous {
            let sameConfig =
                previous.target == weight.target
                && previous.sources.map { [$0.uri] + $0.include + ["|"] + $0.exclude }
                    == sources.map { [$0.uri] + $0.include + ["|"] + $0.exclude }
            status =
                !sameConfig
                ? "config-changed"
                : previous.sources.map(\.fingerprint) == sources.map(\.fingerprint) ? "unchanged" : "upstream-changed"
        } else {
            status = "new"
        }
        return Planned(
            weight: weight, files: files, sources: sources, status: status, added: added, excluded: excluded)
    }

    /// Puts the files into the store and packs the layers.
    func build(_ item: Planned) throws -> WeightArtifact {
        if item.added { log("\(item.weight.name): Download complete") }
        let layers = try WeightPacker.pack(
            item.files, store: store, blobs: blobs, threads: ProcessInfo.processInfo.activeProcessorCount)
        let artifact = try WeightArtifact(name: item.weight.name, target: item.weight.target, layers: layers)
        log(
            "  \(artifact.name) -> \(artifact.target) (\(layers.count) layer(s), \(Self.size(artifact.compressedSize)))"
        )
        return artifact
    }

    /// Pushes the layers, the config and the manifest (under the weight's tag); returns the manifest.
    func push(_ artifact: WeightArtifact, client: RegistryClient) async throws -> Data {
        let repository = model.repository
        for layer in artifact.layers {
            try await client.pushBlob(repository: repository, descriptor: layer.descriptor, from: blobs)
        }
        let config = artifact.config
        let configDigest = try blobs.write(config)
        try await client.pushBlob(
            repository: repository,
            descriptor: Descriptor(
                mediaType: WeightArtifact.configMediaType, digest: configDigest, size: Int64(config.count)),
            from: blobs)
        let manifest = try artifact.manifest(config: config)
        _ = try await client.putManifest(
            repository: repository, reference: WeightArtifact.tag(name: artifact.name, setDigest: artifact.setDigest),
            data: manifest, mediaType: .imageManifest)
        return manifest
    }

    static func entry(_ item: Planned, _ artifact: WeightArtifact, manifest: Data, importedAt: String) throws
        -> WeightsLock.Entry
    {
        WeightsLock.Entry(
            name: artifact.name, target: artifact.target, sources: item.sources, importedAt: importedAt,
            digest: try Digest.sha256(manifest).description, setDigest: artifact.setDigest.description,
            size: artifact.size, sizeCompressed: artifact.compressedSize,
            files: artifact.files.map {
                .init(
                    path: $0.file.path, size: $0.file.size, digest: $0.file.digest.description,
                    layer: $0.layer.description)
            },
            layers: artifact.layers
                .map {
                    .init(
                        digest: $0.descriptor.digest.description, mediaType: $0.descriptor.mediaType.rawValue,
                        size: $0.descriptor.size, sizeUncompressed: $0.filesSize)
                })
    }

    /// Cog's sizes: bytes below 1 KiB, else one decimal in KB, MB or GB (powers of 1024).
    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes)B" }
        var value = Double(bytes) / 1024
        for unit in ["KB", "MB"] {
            if value < 1024 { return String(format: "%.1f%@", value, unit) }
            value /= 1024
        }
        return String(format: "%.1fGB", value)
    }
}
