import Foundation
import Layers
import OCI

/// The step cache: key (hash of the parent chain, the step as planned, its input files' digests and the ids
/// of its secrets, never their contents) → the layer it produced.
struct StepCache: Sendable {
    struct Entry: Codable, Sendable, Equatable {
        var digest: Digest
        var diffID: Digest
        var size: Int64
        var mediaType: MediaType
    }

    let directory: String

    /// The parent of the first key: nothing has been built yet.
    static let noParent = Digest(algorithm: .sha256, bytes: [UInt8](repeating: 0, count: 32))

    func lookup(_ key: Digest, blobs: BlobStore) -> Entry? {
        let path = "\(directory)/\(key.encoded).json"
        guard let data = try? FileSystem.read(path),
            let entry = try? JSONDecoder().decode(Entry.self, from: data),
            blobs.contains(entry.digest)
        else { return nil }
        return entry
    }

    func store(_ layer: WrittenLayer, for key: Digest) throws {
        let entry = Entry(
            digest: layer.descriptor.digest, diffID: layer.diffID, size: layer.descriptor.size,
            mediaType: layer.descriptor.mediaType)
        try FileSystem.makeDirectory(directory)
        try FileSystem.writeAtomically(try CanonicalJSON.encode(entry), to: "\(directory)/\(key.encoded).json")
    }

    /// The key of a step: its parent's key and the step's own material.
    static func key(parent: Digest, material: String) throws -> Digest {
        try Digest.sha256(Data("\(parent)\n\(material)".utf8))
    }
}
