import Foundation

/// Errors from writing, compressing, reading and extracting layers.
public enum LayersError: Error, CustomStringConvertible {
    /// libarchive reported a failure.
    case archive(operation: String, path: String?, message: String)
    /// zlib reported a failure.
    case compression(operation: String, code: Int32)
    /// A tar entry was refused during extraction; nothing of it was written.
    case hostileEntry(path: String, reason: String)
    /// A file system operation failed.
    case io(operation: String, path: String, reason: String)
    /// A layer uses a compression this build cannot read or write.
    case unsupportedCompression(String)

    public var description: String {
        switch self {
        case let .archive(operation, path, message):
            return "\(operation)\(path.map { " \($0)" } ?? ""): \(message)"
        case let .compression(operation, code):
            return "\(operation) failed (zlib error \(code))"
        case let .hostileEntry(path, reason):
            return "refused tar entry \"\(path)\": \(reason); the layer is unsafe, nothing was written outside the target"
        case let .io(operation, path, reason):
            return "\(operation) \(path): \(reason)"
        case let .unsupportedCompression(name):
            return "unsupported layer compression \"\(name)\" (use gzip, zstd or none)"
        }
    }

    static func posix(_ operation: String, _ path: String, _ code: Int32 = errno) -> LayersError {
        .io(operation: operation, path: path, reason: String(cString: strerror(code)))
    }
}
