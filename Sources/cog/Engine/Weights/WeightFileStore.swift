import Foundation
import OCI

/// The local store of weight files, one file per content digest, laid out as Cog lays it out
/// (`<cache>/weights/files/sha256/<2 hex>/<64 hex>`): `cog weights import` fills it, `cog weights pull` fills what
/// is missing, and `predict` / `serve` hard-link from it into the folders they mount.
public struct WeightFileStore: Sendable {
    /// `<cache>/weights`.
    public let root: String

    public init(root: String) { self.root = root }

    public func path(for digest: Digest) -> String {
        "\(root)/files/sha256/\(digest.encoded.prefix(2))/\(digest.encoded)"
    }

    public func contains(_ digest: Digest) -> Bool { FileSystem.exists(path(for: digest)) }

    /// Copies `source` in under the digest of its bytes (hashed on the way); a file already there is kept.
    /// - Returns: the digest and size, and whether the file was new to the store.
    func ingest(file source: String) throws -> (digest: Digest, size: Int64, added: Bool) {
        try put { output, hasher in
            try FileStream.openForReading(source).forEachChunk { chunk in
                try hasher.update(chunk)
                try output.write(chunk)
            }
        }
    }

    /// The digest of a file's bytes, nothing stored.
    static func hash(file path: String) throws -> Digest {
        let hasher = try DigestHasher(.sha256)
        try FileStream.openForReading(path).forEachChunk { try hasher.update($0) }
        return try hasher.finalize()
    }

    /// Stores bytes `write` produces, checked against the digest and size the lockfile names.
    func put(expected: Digest, size: Int64, _ write: (FileStream, DigestHasher) throws -> Void) throws {
        if contains(expected) { return }
        _ = try put(write) { digest, count in
            guard digest == expected, count == size else {
                throw WeightsError.integrity(
                    digest != expected
                        ? "digest mismatch: expected \(expected), got \(digest)"
                        : "size mismatch for \(expected): expected \(size) bytes, got \(count)")
            }
        }
    }

    /// Writes to a temporary file (synced), checks it with `check` (nothing is stored when it throws), then
    /// renames it under its digest.
    private func put(
        _ write: (FileStream, DigestHasher) throws -> Void, check: (Digest, Int64) throws -> Void = { _, _ in }
    ) throws -> (Digest, Int64, Bool) {
        let staging = "\(root)/staging"
        try FileSystem.makeDirectory(staging)
        let temporary = "\(staging)/put-\(UUID().uuidString)"
        do {
            let output = try FileStream.create(temporary, exclusive: true)
            let hasher = try DigestHasher(.sha256)
            try write(output, hasher)
            try output.sync()
            try output.close()
            let (size, digest) = (hasher.count, try hasher.finalize())
            try check(digest, size)
            let target = path(for: digest)
            if FileSystem.exists(target) {
                FileSystem.remove(temporary)
                return (digest, size, false)
            }
            try FileSystem.makeDirectory((target as NSString).deletingLastPathComponent)
            try FileSystem.rename(temporary, to: target)
            return (digest, size, true)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
    }
}
