import CArchive
import CSupport
import Foundation
import OCI

/// The bookkeeping of one extraction: what this layer wrote, and directory times to set last.
struct ExtractionState {
    let rootfd: Int32
    let extractor: LayerExtractor
    var written: Set<String> = []
    var directories: [(path: String, mode: mode_t, mtime: Int64)] = []
    var summary = LayerExtractor.Summary()

    init(rootfd: Int32, extractor: LayerExtractor) {
        self.rootfd = rootfd
        self.extractor = extractor
    }

    mutating func apply(_ header: TarReader.Header, reader: TarReader) throws {
        let path = try normalize(header.path, original: header.path)
        if path.isEmpty { return }  // the root itself
        guard header.size >= 0, header.size <= extractor.maxEntrySize else {
            throw LayersError.hostileEntry(
                path: header.path,
                reason: "declared size \(header.size) bytes is beyond the limit of \(extractor.maxEntrySize)")
        }
        summary.entries += 1
        let (parent, name) = splitParent(path)
        if name.hasPrefix(".wh.") {
            summary.whiteouts += 1
            try applyWhiteout(parent: parent, name: name)
            return
        }
        let parentfd = try openDirectory(parent, create: true)
        defer { close(parentfd) }
        try removeConflicting(parentfd: parentfd, name: name, parent: parent, keepDirectory: header.type == .directory)
        switch header.type {
        case .directory:
            if mkdirat(parentfd, name, 0o700) != 0 && errno != EEXIST { throw LayersError.posix("mkdir", path) }
            directories.append((path, header.mode, header.mtime))
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        case .regular:
            let fd = openat(parentfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw LayersError.posix("create", path) }
            let file = FileDescriptorSink(fd: fd, path: path)
            try reader.copyData(to: file)
            summary.bytes += header.size
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
            guard fchmod(fd, header.mode) == 0 else { throw LayersError.posix("chmod", path) }
            try setTime(parentfd: parentfd, name: name, mtime: header.mtime, path: path)
            try file.close()
        case .symlink(let linkTarget):
            if !linkTarget.hasPrefix("/") {
                try checkRelativeLink(linkTarget, from: parent, entry: header.path)
            }
            guard symlinkat(linkTarget, parentfd, name) == 0 else { throw LayersError.posix("symlink", path) }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
            try setTime(parentfd: parentfd, name: name, mtime: header.mtime, path: path)
        case .hardlink(let linkTarget):
            let targetPath = try normalize(linkTarget, original: header.path, what: "hard link target")
            let (targetParent, targetName) = splitParent(targetPath)
            let targetfd: Int32
            do { targetfd = try openDirectory(targetParent, create: false) } catch LayersError.system {
                throw LayersError.hostileEntry(
                    path: header.path, reason: "hard link to \"\(linkTarget)\", which the layers so far do not contain")
            }
            defer { close(targetfd) }
            var st = stat()
            guard fstatat(targetfd, targetName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw LayersError.hostileEntry(
                    path: header.path, reason: "hard link to \"\(linkTarget)\", which the layers so far do not contain")
            }
            guard st.st_mode & S_IFMT != S_IFDIR else {
                throw LayersError.hostileEntry(
                    path: header.path, reason: "hard link to the directory \"\(linkTarget)\"")
            }
            guard linkat(targetfd, targetName, parentfd, name, 0) == 0 else { throw LayersError.posix("link", path) }
        case .device(let character, let major, let minor):
            guard extractor.allowDevices else {
                if extractor.skipDevices { return }
                throw LayersError.hostileEntry(path: header.path, reason: "device nodes can only be created as root")
            }
            let type: mode_t = character ? Glibc.S_IFCHR : Glibc.S_IFBLK
            guard cog_mknod_at(parentfd, name, type | header.mode, major, minor) == 0 else {
                throw LayersError.posix("mknod", path)
            }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        case .fifo:
            guard mkfifoat(parentfd, name, header.mode) == 0 else { throw LayersError.posix("mkfifo", path) }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        }
        written.insert(path)
    }

    // MARK: metadata

    func setOwnerAndXattrs(parentfd: Int32, name: String, header: TarReader.Header, path: String) throws {
        if extractor.preserveOwnership {
            // EINVAL: an id the user namespace does not map (beyond the subordinate range); the file stays root's.
            guard
                fchownat(parentfd, name, uid_t(header.uid), gid_t(header.gid), AT_SYMLINK_NOFOLLOW) == 0
                    || errno == EINVAL
            else {
                throw LayersError.posix("chown", path)
            }
        }
        if case .symlink = header.type { return }
        if case .directory = header.type {
        } else if case .regular = header.type {
        } else {
            // chown clears setuid bits and creation applied the umask: set the mode now.
            guard fchmodat(parentfd, name, header.mode, 0) == 0 else { throw LayersError.posix("chmod", path) }
        }
        guard !header.xattrs.isEmpty else { return }
        let fd = openat(parentfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for (key, value) in header.xattrs.sorted(by: { $0.key < $1.key }) {
            // Attributes the kernel refuses here (security.* without privileges) are skipped, not fatal.
            _ = value.withUnsafeBytes { fsetxattr(fd, key, $0.baseAddress, $0.count, 0) }
        }
    }

    func setTime(parentfd: Int32, name: String, mtime: Int64, path: String) throws {
        var times = [timespec(tv_sec: time_t(mtime), tv_nsec: 0), timespec(tv_sec: time_t(mtime), tv_nsec: 0)]
        guard utimensat(parentfd, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw LayersError.posix("set time", path)
        }
    }

    /// Directory modes and times are set last, deepest first, since writing into them changes their mtime.
    func finishDirectories() throws {
        for directory in directories.reversed() {
            let (parent, name) = splitParent(directory.path)
            let parentfd = try openDirectory(parent, create: false)
            defer { close(parentfd) }
            guard fchmodat(parentfd, name, directory.mode, 0) == 0 else {
                throw LayersError.posix("chmod", directory.path)
            }
            try setTime(parentfd: parentfd, name: name, mtime: directory.mtime, path: directory.path)
        }
    }
}

/// Writes to an open descriptor and closes it.
private final class FileDescriptorSink: ByteSink {
    private var fd: Int32
    let path: String
    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }
    deinit { if fd >= 0 { Glibc.close(fd) } }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw LayersError.posix("write", path)
            }
            offset += n
        }
    }
    func finish() throws {}
    func close() throws {
        let fd = self.fd
        self.fd = -1
        guard Glibc.close(fd) == 0 else { throw LayersError.posix("close", path) }
    }
}
