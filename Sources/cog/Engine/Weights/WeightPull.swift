import Foundation
import Layers
import OCI
import Registry

/// `cog weights pull`: fills the local store with the files of the weights in `weights.lock` that it lacks,
/// downloading only the layers that hold them (each checked against its digest, each file against the lockfile's
/// digest and size). A weight whose files are all there touches no registry. Prints what Cog prints.
public struct WeightPull: Sendable {
    let projectDirectory: String
    let model: ModelReference
    let store: WeightFileStore
    let transfer: ImageTransfer
    let log: @Sendable (String) -> Void

    public init(
        projectDirectory: String, model: ModelReference, store: WeightFileStore, transfer: ImageTransfer,
        log: @escaping @Sendable (String) -> Void
    ) {
        (self.projectDirectory, self.model, self.store, self.transfer, self.log) =
            (projectDirectory, model, store, transfer, log)
    }

    public func run(names: [String], verbose: Bool) async throws {
        guard let lock = try WeightsLock.load(projectDirectory: projectDirectory) else {
            throw WeightsError.lockfile("weights.lock not found (run 'cog weights import' first)")
        }
        guard !lock.weights.isEmpty else { throw WeightsError.usage("no weights defined in cog.yaml") }
        let unknown = names.filter { lock.entry(named: $0) == nil }
        guard unknown.isEmpty else {
            throw WeightsError.usage("unknown weight(s): [\(unknown.joined(separator: " "))]")
        }
        let entries = names.isEmpty ? lock.weights : names.compactMap { lock.entry(named: $0) }
        if verbose {
            log("Cache:    \(store.root)")
            log("Lockfile: \(projectDirectory)/\(WeightsLock.fileName)")
            log("")
        }
        var client: RegistryClient?
        var (bytes, files, layers, pulled) = (Int64(0), 0, 0, 0)
        for entry in entries {
            let missing = entry.files.filter { file in (try? Digest(parsing: file.digest)).map(store.contains) != true }
            guard !missing.isEmpty else {
                log("Pulling \(entry.name)... cached (\(entry.files.count)/\(entry.files.count) files)")
                continue
            }
            let needed = entry.layers.filter { layer in missing.contains { $0.layer == layer.digest } }
            if verbose {
                log("Pulling \(entry.name) -> \(entry.target)")
                log("  manifest: \(model.repositoryName)@\(entry.digest)")
                log("  files:    \(missing.count) missing / \(entry.files.count) total")
                for layer in needed {
                    log(
                        "  layer \(layer.digest.dropFirst("sha256:".count).prefix(12)) (\(WeightImport.size(layer.size)))"
                    )
                    for file in missing where file.layer == layer.digest {
                        log(
                            "    \(file.path) (\(WeightImport.size(file.size))) \(file.digest.dropFirst("sha256:".count).prefix(12))"
                        )
                    }
                }
            } else {
                log("Pulling \(entry.name)... (\(missing.count) file(s))")
            }
            if client == nil {
                client = try transfer.client(for: model.registry)
            }
            for layer in needed {
                do {
                    try await fetch(layer, of: entry, missing: missing, client: client!)
                } catch {
                    throw WeightsError.integrity("pull \(entry.name): \(error)")
                }
            }
            let size = missing.reduce(0) { $0 + $1.size }
            log(
                "Pulling \(entry.name)... done (\(WeightImport.size(size)), \(missing.count) file(s), \(needed.count) layer(s))"
            )
            (bytes, files, layers, pulled) = (bytes + size, files + missing.count, layers + needed.count, pulled + 1)
        }
        if verbose { log("") }
        let cached = entries.count - pulled
        if pulled == 0 {
            log("All \(entries.count) weight(s) already cached.")
        } else {
            log(
                "Pulled \(WeightImport.size(bytes)) across \(files) file(s) / \(layers) layer(s) for \(pulled) weight(s); \(cached) already cached."
            )
        }
    }

    /// Downloads one layer beside the store, then stores each file of it the store lacks.
    private func fetch(
        _ layer: WeightsLock.Layer, of entry: WeightsLock.Entry, missing: [WeightsLock.File], client: RegistryClient
    ) async throws {
        let folder = "\(store.root)/downloads/\(UUID().uuidString)"  // one per pull: two pulls at once never share
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let downloads = BlobStore(root: folder)
        let descriptor = Descriptor(
            mediaType: MediaType(rawValue: layer.mediaType), digest: try Digest(parsing: layer.digest), size: layer.size
        )
        try await client.getBlob(repository: model.repository, descriptor: descriptor, into: downloads)
        let known = Dictionary(entry.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var wanted = Set(missing.filter { $0.layer == layer.digest }.map(\.path))
        let reader = try TarReader(path: downloads.path(for: descriptor.digest))
        while let header = try reader.next() {
            guard header.type == .regular else { continue }
            guard let path = header.path.string, let file = known[path] else {
                throw WeightsError.integrity(
                    "layer \(layer.digest): unexpected file \"\(header.path)\" not in lockfile")
            }
            try store.put(expected: try Digest(parsing: file.digest), size: file.size) { output, hasher in
                try reader.copyData(to: StoreSink(output: output, hasher: hasher))
            }
            if wanted.remove(path) != nil { log("\(Self.progressID(entry.name, file)): Download complete") }
        }
        if let path = wanted.sorted().first {
            throw WeightsError.integrity("layer \(layer.digest): missing expected file \"\(path)\"")
        }
    }

    /// Cog's progress id for a file: 12 hex of its digest, then 8 hex naming the weight and path.
    static func progressID(_ weight: String, _ file: WeightsLock.File) -> String {
        let key = (try? Digest.sha256(Data((weight + "\u{0}" + file.path).utf8)).encoded.prefix(8)) ?? ""
        return "\(file.digest.dropFirst("sha256:".count).prefix(12))-\(key)"
    }
}

/// Writes a file of a layer into the store's temporary file, hashing it on the way.
private final class StoreSink: ByteSink {
    let output: FileStream
    let hasher: DigestHasher

    init(output: FileStream, hasher: DigestHasher) { (self.output, self.hasher) = (output, hasher) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try hasher.update(bytes)
        try output.write(bytes)
    }

    func finish() throws {}
}
