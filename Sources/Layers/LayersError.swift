import Foundation
import OCI

/// Errors from writing, compressing, reading and extracting layers, and from running steps.
public enum LayersError: Error, CustomStringConvertible {
    /// libarchive reported a failure.
    case archive(operation: String, path: String?, message: String)
    /// zlib or libdeflate reported a failure.
    case compression(library: String, operation: String, code: Int32)
    /// A tar entry was refused during extraction; nothing of it was written.
    case hostileEntry(path: String, reason: String)
    /// A system call failed.
    case system(SystemCallError)
    /// A file changed while it was being archived.
    case fileChanged(path: String, detail: String)
    /// A file to archive could not be opened or read.
    case unreadable(path: String, cause: SystemCallError)
    /// A layer the caller needed was not unpacked (its unpacking was cancelled).
    case notUnpacked(directory: String)
    /// A stream's digest was asked for before the stream ended.
    case unfinishedStream
    /// A layer uses a compression this build cannot read or write.
    case unsupportedCompression(String)

    public var description: String {
        switch self {
        case .archive(let operation, let path, let message):
            return "\(operation)\(path.map { " \($0)" } ?? ""): \(message)"
        case .compression(let library, let operation, let code):
            return "\(operation) failed (\(library) error \(code))"
        case .hostileEntry(let path, let reason):
            return
                "refused tar entry \"\(path)\": \(reason); the layer is unsafe, nothing was written outside the target"
        case .system(let cause):
            return cause.description
        case .fileChanged(let path, let detail):
            return "\(path) changed while it was being archived (\(detail)); run the build again"
        case .unreadable(let path, let cause):
            let hint =
                cause.errno == EACCES || cause.errno == EPERM
                ? "make it readable (chmod a+r) or leave it out with .dockerignore"
                : "check the file, or leave it out with .dockerignore"
            return "cannot read \(path) to archive it (\(cause.call): \(cause.reason)); \(hint)"
        case .notUnpacked(let directory):
            return "the layer for \(directory) was not unpacked (the pull failed or was cancelled)"
        case .unfinishedStream:
            return "internal error: a digest was read before its stream was finished"
        case .unsupportedCompression(let name):
            return "unsupported layer compression \"\(name)\" (use gzip, zstd or none)"
        }
    }

    /// The failed call `operation` on `path`, with the current `errno`.
    static func posix(_ operation: String, _ path: String, _ code: Int32 = errno) -> LayersError {
        .system(SystemCallError(operation, path: path, errno: code))
    }
}
