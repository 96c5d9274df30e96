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

    func lookup(_ key: Digest, blobs: BlobStore) -> Entry? {
        let path = "\(directory)/\(key.encoded).json"
        guard let data = FileManager.default.contents(atPath: path),
              let entry = try? JSONDecoder().decode(Entry.self, from: data),
              blobs.contains(entry.digest) else { return nil }
        return entry
    }

    func store(_ entry: Entry, for key: Digest) throws {
        try FileSystem.makeDirectory(directory)
        try FileSystem.writeAtomically(try CanonicalJSON.encode(entry), to: "\(directory)/\(key.encoded).json")
    }

    /// The key of a step: its parent's key and the step's own material.
    static func key(parent: Digest, material: String) -> Digest {
        Digest.sha256(Data("\(parent)\n\(material)".utf8))
    }
}
