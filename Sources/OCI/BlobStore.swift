import Foundation

/// A content-addressed directory of blobs, `<root>/<algorithm>/<hex>`: an OCI layout's `blobs/` or the
/// machine-wide cache. A blob only ever appears under its name after its digest has been checked, so a crash
/// never leaves wrong bytes under a right name.
public struct BlobStore: Sendable {
    public let root: String
    /// Whether a blob found corrupt is removed (the cache's store, whose blobs are fetched or built again); a
    /// layout a person keeps is never changed.
    public let removesCorruptBlobs: Bool

    public init(root: String, removesCorruptBlobs: Bool = false) {
        self.root = root
        self.removesCorruptBlobs = removesCorruptBlobs
    }

    /// The path where `digest` lives (or would live).
    public func path(for digest: Digest) -> String { "\(root)/\(digest.algorithm.rawValue)/\(digest.encoded)" }

    public func contains(_ digest: Digest) -> Bool { FileSystem.exists(path(for: digest)) }

    /// The size of a stored blob, or nil when absent.
    public func size(of digest: Digest) -> Int64? {
        var st = stat()
        return stat(path(for: digest), &st) == 0 ? Int64(st.st_size) : nil
    }

    /// A fresh temporary path inside the store, on the same file system as the blobs, for writers that
    /// compute the digest while writing and then call `commit(temporary:digest:)`.
    public func temporaryPath() throws -> String {
        let dir = "\(root)/sha256"
        try FileSystem.makeDirectory(dir)
        return "\(dir)/.incoming-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    }

    /// Moves a file whose digest was computed while writing it under its content name.
    public func commit(temporary: String, digest: Digest) throws {
        try FileSystem.makeDirectory("\(root)/\(digest.algorithm.rawValue)")
        try FileSystem.rename(temporary, to: path(for: digest))
    }

    /// Stores `data` and returns its SHA-256 digest.
    @discardableResult
    public func write(_ data: Data) throws -> Digest {
        let digest = try Digest.sha256(data)
        if contains(digest) { return digest }
        let temporary = try temporaryPath()
        do {
            let file = try FileStream.create(temporary, exclusive: true)
            try file.write(data)
            try file.close()
            try commit(temporary: temporary, digest: digest)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
        return digest
    }

    /// Copies the file at `source` into the store, hashing on the way.
    /// - Throws: `OCIError.digestMismatch` when `expected` is given and differs; nothing is stored then.
    @discardableResult
    public func ingest(file source: String, expected: Digest? = nil) throws -> (digest: Digest, size: Int64) {
        if let expected, contains(expected) { return (expected, size(of: expected) ?? 0) }
        let temporary = try temporaryPath()
        do {
            let input = try FileStream.openForReading(source)
            let output = try FileStream.create(temporary, exclusive: true)
            let hasher = try DigestHasher(expected?.algorithm ?? .sha256)
            try input.forEachChunk { chunk in
                try hasher.update(chunk)
                try output.write(chunk)
            }
            try output.close()
            let size = hasher.count
            let digest = try hasher.finalize()
            if let expected, expected != digest {
                throw OCIError.digestMismatch(expected: expected, actual: digest, what: source)
            }
            try commit(temporary: temporary, digest: digest)
            return (digest, size)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
    }

    /// How a blob moves from one store to another.
    public enum Transfer: Sendable {
        /// A hard link where the file system allows it (a copy otherwise): only between stores the cache owns.
        case link
        /// An independent copy for outputs a person may edit (a reflink where the file system has them, else the
        /// bytes), the source's digest checked on the way: a corrupt source is removed, never copied out.
        case copy
    }

    /// Brings a blob from another store into this one (nothing to do when present).
    /// - Throws: `OCIError.corruptBlob` when copying finds the source's bytes do not match `digest` (the source
    ///   is removed from `other`); system-call errors.
    public func take(_ digest: Digest, from other: BlobStore, by transfer: Transfer) throws {
        if contains(digest) || other.root == root { return }
        try FileSystem.makeDirectory("\(root)/\(digest.algorithm.rawValue)")
        let source = other.path(for: digest)
        guard FileSystem.exists(source) else { throw OCIError.blobNotFound(digest, location: other.root) }
        if transfer == .link {
            let temporary = try temporaryPath()
            if Glibc.link(source, temporary) == 0 {
                try FileSystem.rename(temporary, to: path(for: digest))
                return
            }
        } else {
            // A reflink shares no bytes that an edit of either file could change; the source is checked first.
            try other.verifyIntegrity(digest)
            let temporary = try temporaryPath()
            if Reflink.clone(source, to: temporary) {
                try FileSystem.rename(temporary, to: path(for: digest))
                return
            }
        }
        do {
            try ingest(file: source, expected: digest)
        } catch OCIError.digestMismatch(_, let actual, _) {
            if other.removesCorruptBlobs { other.remove(digest) }
            throw OCIError.corruptBlob(
                digest, path: source, found: "hashes to \(actual)", removed: other.removesCorruptBlobs)
        }
    }

    /// Removes a blob (a corrupt one: the next build or pull stores it again).
    public func remove(_ digest: Digest) { FileSystem.remove(path(for: digest)) }

    /// Checks, before a blob is shipped or unpacked, that it hashes to its name (and has `size`, when given); a
    /// blob that does not is removed when the store `removesCorruptBlobs`.
    /// - Throws: `OCIError.corruptBlob` for a mismatch, `OCIError.blobNotFound` when absent.
    public func verifyIntegrity(_ digest: Digest, size: Int64? = nil) throws {
        let found: String
        do {
            try verify(digest, size: size)
            return
        } catch OCIError.digestMismatch(_, let actual, _) {
            found = "hashes to \(actual)"
        } catch OCIError.sizeMismatch(let expected, let actual, _) {
            found = "holds \(actual) bytes, not \(expected)"
        }
        if removesCorruptBlobs { remove(digest) }
        throw OCIError.corruptBlob(digest, path: path(for: digest), found: found, removed: removesCorruptBlobs)
    }

    /// Reads a whole blob (documents only: manifests, configs, indexes) and checks its digest and size.
    public func read(_ descriptor: Descriptor) throws -> Data {
        let location = path(for: descriptor.digest)
        guard FileSystem.exists(location) else { throw OCIError.blobNotFound(descriptor.digest, location: root) }
        let data = try FileSystem.read(location)
        guard Int64(data.count) == descriptor.size else {
            throw OCIError.sizeMismatch(expected: descriptor.size, actual: Int64(data.count), what: location)
        }
        let hasher = try DigestHasher(descriptor.digest.algorithm)
        try hasher.update(data)
        let actual = try hasher.finalize()
        guard actual == descriptor.digest else {
            throw OCIError.digestMismatch(expected: descriptor.digest, actual: actual, what: location)
        }
        return data
    }

    /// Re-reads a stored blob and checks that it hashes to its name (and has `size`, when given).
    public func verify(_ digest: Digest, size: Int64? = nil) throws {
        let location = path(for: digest)
        guard FileSystem.exists(location) else { throw OCIError.blobNotFound(digest, location: root) }
        let hasher = try DigestHasher(digest.algorithm)
        try FileStream.openForReading(location).forEachChunk { try hasher.update($0) }
        if let size, hasher.count != size {
            throw OCIError.sizeMismatch(expected: size, actual: hasher.count, what: location)
        }
        let actual = try hasher.finalize()
        guard actual == digest else { throw OCIError.digestMismatch(expected: digest, actual: actual, what: location) }
    }
}
