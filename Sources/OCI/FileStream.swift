import Foundation

/// A file opened for streaming reads or writes through POSIX calls, with errors that name the path.
///
/// One owner; closed in `deinit` if not closed before. Not `Sendable`.
public final class FileStream {
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Opens an existing file for reading.
    public static func openForReading(_ path: String) throws -> FileStream {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OCIError.posix("open", path) }
        return FileStream(path: path, fd: fd)
    }

    /// Creates (or truncates) a file for writing.
    public static func create(_ path: String, mode: mode_t = 0o644, exclusive: Bool = false) throws -> FileStream {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = Glibc.open(path, flags, mode)
        guard fd >= 0 else { throw OCIError.posix("create", path) }
        return FileStream(path: path, fd: fd)
    }

    /// Opens a file for appending (it is created when absent).
    public static func openForAppending(_ path: String) throws -> FileStream {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OCIError.posix("open", path) }
        return FileStream(path: path, fd: fd)
    }

    /// Reads up to `buffer.count` bytes; 0 means the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw OCIError.posix("read", path)
        }
    }

    /// Writes all of `buffer`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw OCIError.posix("write", path)
            }
            offset += n
        }
    }

    public func write(_ data: some DataProtocol) throws {
        for region in data.regions { try region.withUnsafeBytes { try write($0) } }
    }

    /// Moves the read/write position.
    public func seek(to offset: Int64) throws {
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw OCIError.posix("seek", path) }
    }

    /// The file's size now.
    public func size() throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw OCIError.posix("stat", path) }
        return Int64(st.st_size)
    }

    /// Flushes the file to disk.
    public func sync() throws {
        guard fsync(fd) == 0 else { throw OCIError.posix("fsync", path) }
    }

    /// Closes the file, reporting a failed close (which can mean a failed write).
    public func close() throws {
        let fd = self.fd
        self.fd = -1
        guard fd >= 0 else { return }
        guard Glibc.close(fd) == 0 else { throw OCIError.posix("close", path) }
    }

    /// Calls `body` with successive chunks of the file until its end.
    public func forEachChunk(size: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// Small file-system helpers shared by the stores.
public enum FileSystem {
    /// Creates `path` and its parents.
    public static func makeDirectory(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR else { throw OCIError.posix("create directory", path, ENOTDIR) }
            return
        }
        // Component by component from the left (no recursion: `a/../b` and `./x` are walked as they are written).
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else { throw OCIError.posix("create directory", prefix) }
        }
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw OCIError.posix("create directory", path, ENOTDIR)
        }
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Renames atomically within one file system.
    public static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw OCIError.posix("rename to \(to)", from) }
    }

    /// Removes a file or a whole tree; absent paths are fine.
    public static func remove(_ path: String) {
        guard exists(path) else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A unique name next to `path` for writing before a rename.
    public static func temporarySibling(of path: String) -> String {
        "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Writes `data` to `path` through a temporary name and a rename, so readers never see half a file.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        try writeAtomically(to: path) { temporary in
            let file = try FileStream.create(temporary, mode: mode, exclusive: true)
            try file.write(data)
            try file.close()
        }
    }

    /// Has `write` make the file at a temporary name next to `path`, then renames it to `path`; on failure the
    /// temporary is removed and `path` is left as it was.
    public static func writeAtomically(to path: String, _ write: (_ temporary: String) throws -> Void) throws {
        let temporary = temporarySibling(of: path)
        do {
            try write(temporary)
            try rename(temporary, to: path)
        } catch {
            remove(temporary)
            throw error
        }
    }

    /// Reads a whole small file (documents, not layers).
    public static func read(_ path: String) throws -> Data {
        let file = try FileStream.openForReading(path)
        var data = Data()
        try file.forEachChunk(size: 64 << 10) { data.append(contentsOf: $0) }
        return data
    }
}
