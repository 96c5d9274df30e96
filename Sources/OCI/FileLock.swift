import Foundation

/// An exclusive `flock` on a lock file, held from `init` until `release()` or deinit: the lock between cog
/// processes sharing one cache (a layer being unpacked, the image store's index, a cache mount in use).
/// One owner; not `Sendable`.
public final class FileLock {
    private var fd: Int32

    /// Waits until the lock on `path` (created when absent) is this process's.
    /// - Throws: `OCIError.system` when the lock file cannot be opened.
    public init(_ path: String) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OCIError.posix("open the lock file", path) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    }

    deinit { release() }

    /// Gives the lock up (closing the file releases it).
    public func release() {
        let fd = self.fd
        self.fd = -1
        if fd >= 0 { close(fd) }
    }

    /// Runs `body` holding the lock on `path`.
    public static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let lock = try FileLock(path)
        defer { lock.release() }
        return try body()
    }
}
