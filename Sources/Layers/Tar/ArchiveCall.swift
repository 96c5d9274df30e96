import CArchive
import Foundation

/// The one checker for libarchive results: `ARCHIVE_OK` passes, `ARCHIVE_WARN` passes (the caller decides
/// what a warning means), anything else throws with libarchive's message, or with the error a callback stored
/// (a full disk behind the writer is reported as itself, not as libarchive's summary of it).
enum ArchiveCall {
    static func check(
        _ code: Int32, _ archive: OpaquePointer?, _ operation: String, path: String? = nil,
        callbackError: Error? = nil
    ) throws {
        guard code < ARCHIVE_WARN else { return }
        if let callbackError { throw callbackError }
        let message =
            archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "libarchive error \(code)"
        throw LayersError.archive(operation: operation, path: path, message: message)
    }

    /// A new read or write handle; libarchive returns nil only when out of memory.
    static func handle(_ made: OpaquePointer?, _ what: String) throws -> OpaquePointer {
        guard let made else {
            throw LayersError.archive(operation: "create a \(what) handle", path: nil, message: "out of memory")
        }
        return made
    }
}
