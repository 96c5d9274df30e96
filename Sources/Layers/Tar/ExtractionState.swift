import CArchive
import CSupport
import Foundation
import OCI

/// The bookkeeping of one extraction: what this layer wrote, and directory times to set last.
struct ExtractionState {
    let rootfd: Int32
    let extractor: LayerExtractor
    var written: Set<BytePath> = []
    var directories: [(path: BytePath, mode: mode_t, mtime: Int64)] = []
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
                path: header.path.description,
                reason: "declared size \(header.size) bytes is beyond the limit of \(extractor.maxEntrySize)")
        }
        summary.entries += 1
        let (parent, name) = path.parentAndName
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
            if name.withCString({ mkdirat(parentfd, $0, 0o700) }) != 0 && errno != EEXIST {
                throw LayersError.posix("mkdir", path.description)
            }
            directories.append((path, header.mode, header.mtime))
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        case .regular:
            let fd = name.withCString {
                openat(parentfd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            }
            guard fd >= 0 else { throw LayersError.posix("create", path.description) }
            let file = SparseFileSink(fd: fd, path: path.description)
            try reader.copyData(to: file)
            try file.finish()
            summary.bytes += header.size
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
            guard fchmod(fd, header.mode) == 0 else { throw LayersError.posix("chmod", path.description) }
            try setTime(parentfd: parentfd, name: name, mtime: header.mtime, path: path)
            try file.close()
        case .symlink(let linkTarget):
            // Kept as it is, wherever it points (absolute, climbing above the root, dangling), as Docker keeps it:
            // extraction never follows it out of the root (every path resolves inside the root, openat2).
            let made = linkTarget.withCString { target in name.withCString { symlinkat(target, parentfd, $0) } }
            guard made == 0 else { throw LayersError.posix("symlink", path.description) }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
            try setTime(parentfd: parentfd, name: name, mtime: header.mtime, path: path)
        case .hardlink(let linkTarget):
            let targetPath = try normalize(linkTarget, original: header.path, what: "hard link target")
            let (targetParent, targetName) = targetPath.parentAndName
            let missing = LayersError.hostileEntry(
                path: header.path.description,
                reason: "hard link to \"\(linkTarget)\", which the layers so far do not contain")
            let targetfd: Int32
            do { targetfd = try openDirectory(targetParent, create: false) } catch LayersError.system {
                throw missing
            }
            defer { close(targetfd) }
            var st = stat()
            guard targetName.withCString({ fstatat(targetfd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                throw missing
            }
            guard st.st_mode & S_IFMT != S_IFDIR else {
                throw LayersError.hostileEntry(
                    path: header.path.description, reason: "hard link to the directory \"\(linkTarget)\"")
            }
            let linked = targetName.withCString { from in name.withCString { linkat(targetfd, from, parentfd, $0, 0) } }
            guard linked == 0 else { throw LayersError.posix("link", path.description) }
        case .device(let character, let major, let minor):
            guard extractor.allowDevices else {
                if extractor.skipDevices { return }
                throw LayersError.hostileEntry(
                    path: header.path.description, reason: "device nodes can only be created as root")
            }
            let type: mode_t = character ? Glibc.S_IFCHR : Glibc.S_IFBLK
            guard name.withCString({ cog_mknod_at(parentfd, $0, type | header.mode, major, minor) }) == 0 else {
                throw LayersError.posix("mknod", path.description)
            }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        case .fifo:
            guard name.withCString({ mkfifoat(parentfd, $0, header.mode) }) == 0 else {
                throw LayersError.posix("mkfifo", path.description)
            }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        }
        written.insert(path)
    }

    // MARK: metadata

    func setOwnerAndXattrs(parentfd: Int32, name: BytePath, header: TarReader.Header, path: BytePath) throws {
        if extractor.preserveOwnership {
            // EINVAL: an id the user namespace does not map (beyond the subordinate range); the file stays root's.
            let owned = name.withCString {
                fchownat(parentfd, $0, uid_t(header.uid), gid_t(header.gid), AT_SYMLINK_NOFOLLOW)
            }
            guard owned == 0 || errno == EINVAL else { throw LayersError.posix("chown", path.description) }
        }
        if case .symlink = header.type { return }
        if case .directory = header.type {
        } else if case .regular = header.type {
        } else {
            // chown clears setuid bits and creation applied the umask: set the mode now.
            guard name.withCString({ fchmodat(parentfd, $0, header.mode, 0) }) == 0 else {
                throw LayersError.posix("chmod", path.description)
            }
        }
        guard !header.xattrs.isEmpty else { return }
        let fd = name.withCString { openat(parentfd, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { return }
        defer { close(fd) }
        for (key, value) in header.xattrs.sorted(by: { $0.key < $1.key }) {
            // Attributes the kernel refuses here (security.* without privileges) are skipped, not fatal.
            _ = value.withUnsafeBytes { fsetxattr(fd, key, $0.baseAddress, $0.count, 0) }
        }
    }

    func setTime(parentfd: Int32, name: BytePath, mtime: Int64, path: BytePath) throws {
        var times = [timespec(tv_sec: time_t(mtime), tv_nsec: 0), timespec(tv_sec: time_t(mtime), tv_nsec: 0)]
        guard name.withCString({ utimensat(parentfd, $0, &times, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw LayersError.posix("set time", path.description)
        }
    }

    /// Directory modes and times are set last, deepest first, since writing into them changes their mtime.
    func finishDirectories() throws {
        for directory in directories.reversed() {
            let (parent, name) = directory.path.parentAndName
            let parentfd = try openDirectory(parent, create: false)
            defer { close(parentfd) }
            guard name.withCString({ fchmodat(parentfd, $0, directory.mode, 0) }) == 0 else {
                throw LayersError.posix("chmod", directory.path.description)
            }
            try setTime(parentfd: parentfd, name: name, mtime: directory.mtime, path: directory.path)
        }
    }
}
