import CSupport
import Foundation
import OCI

/// System calls on `BytePath`s of any length and any bytes, never following a symlink at the last component.
///
/// The kernel takes at most PATH_MAX bytes in one call; a deeper path is opened one chunk at a time (each chunk
/// resolved as the whole path would be) and the call made relative to the directory reached.
enum PathCalls {
    /// Longest path handed to one call, leaving room for a `/proc/self/fd/N/` prefix.
    static let limit = Int(PATH_MAX) - 64

    /// Calls `body` with a directory descriptor (or `AT_FDCWD`) and a path relative to it naming `path`.
    static func withAt<R>(_ path: BytePath, _ body: (Int32, UnsafePointer<CChar>) throws -> R) throws -> R {
        var rest = path.bytes[...]
        var fd = AT_FDCWD
        defer { if fd != AT_FDCWD { close(fd) } }
        while rest.count > limit {
            guard let cut = rest[..<(rest.startIndex + limit)].lastIndex(of: 0x2f), cut > rest.startIndex else {
                throw LayersError.posix("resolve", path.description, ENAMETOOLONG)
            }
            let next = BytePath(bytes: rest[..<cut]).withCString {
                openat(fd, $0, COG_O_PATH | O_DIRECTORY | O_CLOEXEC)
            }
            guard next >= 0 else { throw LayersError.posix("open directory", path.description) }
            if fd != AT_FDCWD { close(fd) }
            fd = next
            rest = rest[(cut + 1)...]
        }
        return try BytePath(bytes: rest).withCString { try body(fd, $0) }
    }

    /// Calls `body` with one path string naming `path` (through `/proc/self/fd` when it is too long), for the
    /// calls that have no `*at` form (the `l*xattr` family, `opendir`).
    static func withPath<R>(_ path: BytePath, _ body: (UnsafePointer<CChar>) throws -> R) throws -> R {
        try withAt(path) { fd, relative in
            if fd == AT_FDCWD { return try body(relative) }
            let prefixed = BytePath("/proc/self/fd/\(fd)/").bytes + BytePath(cString: relative)!.bytes
            return try BytePath(prefixed).withCString(body)
        }
    }

    /// `lstat`.
    static func status(_ path: BytePath) throws -> stat {
        var st = stat()
        let code = try withAt(path) { fstatat($0, $1, &st, AT_SYMLINK_NOFOLLOW) }
        guard code == 0 else { throw LayersError.posix("stat", path.description) }
        return st
    }

    /// The names in a directory, except `.` and `..`, unsorted.
    static func listDirectory(_ path: BytePath) throws -> [BytePath] {
        let fd = try withAt(path) { openat($0, $1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0, let dir = fdopendir(fd) else {
            let code = errno
            if fd >= 0 { close(fd) }
            throw LayersError.posix("list", path.description, code)
        }
        defer { closedir(dir) }
        var names: [BytePath] = []
        while let item = readdir(dir) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { BytePath(cString: $0)! }
            }
            if name.bytes != [0x2e] && name.bytes != [0x2e, 0x2e] { names.append(name) }
        }
        return names
    }

    /// A symlink's target, byte for byte.
    static func readLink(_ path: BytePath) throws -> BytePath {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try withAt(path) { fd, name in
            buffer.withUnsafeMutableBufferPointer { out in
                out.withMemoryRebound(to: CChar.self) { readlinkat(fd, name, $0.baseAddress!, $0.count - 1) }
            }
        }
        guard n >= 0 else { throw LayersError.posix("readlink", path.description) }
        return BytePath(Array(buffer[0..<n]))
    }

    /// The extended attributes of `path` itself (not of a symlink's target). Names that are not UTF-8, which no
    /// tar format carries reliably, are left out.
    static func extendedAttributes(_ path: BytePath) throws -> [String: [UInt8]] {
        try withPath(path) { cPath in
            let size = llistxattr(cPath, nil, 0)
            guard size > 0 else { return [:] }
            var names = [CChar](repeating: 0, count: size)
            let got = llistxattr(cPath, &names, size)
            guard got > 0 else { return [:] }
            var result: [String: [UInt8]] = [:]
            for raw in names[0..<got].split(separator: 0) {
                guard let name = String(validating: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self) else { continue }
                let length = lgetxattr(cPath, name, nil, 0)
                guard length >= 0 else { continue }
                var value = [UInt8](repeating: 0, count: length)
                let read = length == 0 ? 0 : lgetxattr(cPath, name, &value, length)
                if read >= 0 { result[name] = Array(value[0..<read]) }
            }
            return result
        }
    }

    /// Opens a regular file for reading without following a symlink and without blocking on a fifo that took
    /// its place.
    static func openForReading(_ path: BytePath) throws -> Int32 {
        let fd = try withAt(path) { openat($0, $1, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else {
            let cause = SystemCallError("open", path: nil)
            switch cause.errno {
            case ELOOP: throw LayersError.fileChanged(path: path.description, detail: "it was replaced by a symlink")
            case ENOENT: throw LayersError.fileChanged(path: path.description, detail: "it was removed")
            default: throw LayersError.unreadable(path: path.description, cause: cause)
            }
        }
        return fd
    }
}
