import Foundation

/// A failed system call: which call, the `errno` it set, and the path it was about. Module errors carry it as
/// their cause, so the number survives to the message and to code that branches on it (`ENOSPC`, `ENOENT`).
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was attempted, in words (`open`, `rename to /x`, `create directory`).
    public let call: String
    public let errno: Int32
    public let path: String?

    public init(_ call: String, path: String?, errno code: Int32 = Glibc.errno) {
        self.call = call
        self.errno = code
        self.path = path
    }

    /// `strerror` of the number.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        let hint = errno == ENOSPC ? " (the disk is full: free space or point COG_CACHE_DIR elsewhere)" : ""
        return "\(call)\(path.map { " \($0)" } ?? ""): \(reason)\(hint)"
    }
}
