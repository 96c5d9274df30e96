import Foundation

/// Errors raised while reading or writing OCI values, blobs and layouts.
public enum OCIError: Error, CustomStringConvertible, Equatable {
    /// A digest string is not `algorithm:hex` with a supported algorithm and the right length.
    case invalidDigest(String, reason: String)
    /// Bytes read do not hash to the digest that names them.
    case digestMismatch(expected: Digest, actual: Digest, what: String)
    /// A blob has a different size than its descriptor says.
    case sizeMismatch(expected: Int64, actual: Int64, what: String)
    /// A blob named by an index or manifest is absent.
    case blobNotFound(Digest, location: String)
    /// A JSON document did not decode as the type it should be.
    case invalidDocument(what: String, reason: String)
    /// A system call failed.
    case system(SystemCallError)
    /// libcrypto failed (OpenSSL's error queue in `detail`).
    case crypto(operation: String, detail: String)
    /// An image layout directory is not a valid OCI image layout.
    case invalidLayout(path: String, reason: String)
    /// No manifest in an index carries the requested reference name.
    case referenceNotFound(String, available: [String])
    /// An output directory holds something that is not an OCI layout; nothing was written to it.
    case outputRefused(path: String, reason: String)
    /// A stored blob's bytes no longer hash to its name (or have another size): found when it was read to be
    /// shipped or unpacked; the store has removed it.
    case corruptBlob(Digest, path: String, found: String, removed: Bool)

    public var description: String {
        switch self {
        case .invalidDigest(let value, let reason):
            return "invalid digest \"\(value)\": \(reason) (expected sha256:<64 lowercase hex>)"
        case .digestMismatch(let expected, let actual, let what):
            return
                "digest mismatch for \(what): expected \(expected), got \(actual); the data is corrupt or was changed, fetch or build it again"
        case .sizeMismatch(let expected, let actual, let what):
            return "size mismatch for \(what): expected \(expected) bytes, got \(actual)"
        case .blobNotFound(let digest, let location):
            return "blob \(digest) not found in \(location)"
        case .invalidDocument(let what, let reason):
            return "invalid \(what): \(reason)"
        case .system(let cause):
            return cause.description
        case .crypto(let operation, let detail):
            return "libcrypto could not \(operation)\(detail.isEmpty ? "" : ": \(detail)")"
        case .invalidLayout(let path, let reason):
            return "\(path) is not an OCI image layout: \(reason)"
        case .referenceNotFound(let name, let available):
            let list =
                available.isEmpty ? "the index names no images" : "it names: \(available.joined(separator: ", "))"
            return "no image named \"\(name)\" in the layout; \(list)"
        case .outputRefused(let path, let reason):
            return
                "refusing to write an OCI layout to \(path): \(reason); give a new or empty directory, or an existing OCI layout to add the image to"
        case .corruptBlob(let digest, let path, let found, let removed):
            let action =
                removed
                ? "it was removed from the cache, to be built or fetched anew"
                : "build or fetch the image again"
            return "blob \(digest) is corrupt: \(path) \(found); \(action)"
        }
    }
}

extension OCIError {
    /// The failed call `operation` on `path`, with the current `errno`.
    static func posix(_ operation: String, _ path: String, _ code: Int32 = errno) -> OCIError {
        .system(SystemCallError(operation, path: path, errno: code))
    }
}
