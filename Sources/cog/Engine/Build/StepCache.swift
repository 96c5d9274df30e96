import Foundation
import Layers
import OCI

/// The step cache: key (hash of the parent chain, the step as planned, its input files' digests and the ids
/// of its secrets, never their contents) → the layers it produced (several for a package step).
struct StepCache: Sendable {
    struct Entry: Codable, Sendable, Equatable {
        var digest: Digest
        var diffID: Digest
        var size: Int64
        var mediaType: MediaType
        /// The package a layer of a split step holds.
        var label: String?
        /// Recorded from a registry cache without reading the blob: its diffID is checked before it is unpacked.
        var unchecked: Bool?

        var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: size) }
    }

    /// What a key's file holds.
    private struct Record: Codable {
        var layers: [Entry]
        /// A whole build's entry: Cog's metadata (`FinishedBuild`).
        var facts: [String: String]?
    }

    let directory: String

    /// The parent of the first key: nothing has been built yet.
    static let noParent = Digest(algorithm: .sha256, bytes: [UInt8](repeating: 0, count: 32))

    /// The layers stored under `key`, when every blob is still in the store.
    func lookup(_ key: Digest, blobs: BlobStore) -> [Entry]? {
        lookupWithFacts(key, blobs: blobs)?.layers
    }

    /// The layers and facts stored under `key`, when every blob is still in the store.
    func lookupWithFacts(_ key: Digest, blobs: BlobStore) -> (layers: [Entry], facts: [String: String])? {
        let path = "\(directory)/\(key.encoded).json"
        guard let data = try? FileSystem.read(path),
            let record = try? JSONDecoder().decode(Record.self, from: data),
            !record.layers.isEmpty, record.layers.allSatisfy({ blobs.contains($0.digest) })
        else { return nil }
        return (record.layers, record.facts ?? [:])
    }

    func store(_ layers: [(layer: WrittenLayer, label: String?)], for key: Digest) throws {
        try store(
            entries: layers.map { layer, label in
                Entry(
                    digest: layer.descriptor.digest, diffID: layer.diffID, size: layer.descriptor.size,
                    mediaType: layer.descriptor.mediaType, label: label)
            }, for: key)
    }

    /// Records `entries`, whose blobs are in the store, under `key` (a step imported from a registry cache).
    func store(entries: [Entry], facts: [String: String]? = nil, for key: Digest) throws {
        try FileSystem.makeDirectory(directory)
        try FileSystem.writeAtomically(
            try CanonicalJSON.encode(Record(layers: entries, facts: facts)), to: "\(directory)/\(key.encoded).json")
    }

    /// The key of a step: its parent's key and the step's own material.
    static func key(parent: Digest, material: String) throws -> Digest {
        try Digest.sha256(Data("\(parent)\n\(material)".utf8))
    }
}
