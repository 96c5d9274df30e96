import CArchive
import CSupport
import Foundation
import OCI

/// Unpacks layer tars (gzip, zstd or plain) into a directory, refusing hostile entries.
///
/// Every path is resolved inside the target as if it were `/` (openat2 `RESOLVE_IN_ROOT`), so no entry, symlink
/// or hard link can write outside it. Refused outright: absolute paths, `..` components, relative symlinks
/// that climb above the root, hard links to paths outside the layer, device nodes when not root, sizes above
/// `maxEntrySize`.
public struct LayerExtractor {
    /// What to do with OCI whiteouts.
    public enum WhiteoutMode: Sendable, Equatable {
        /// Delete what they hide: the layers are flattened into one tree.
        case apply
        /// Turn them into overlayfs whiteouts (0/0 character devices, `<namespace>.overlay.opaque` xattrs), so
        /// the directory can serve as an overlay lower dir; `namespace` is `trusted` or `user` (`userxattr`).
        case overlay(xattrNamespace: String)
    }

    public let target: String
    public var whiteouts: WhiteoutMode = .apply
    public var maxEntrySize: Int64 = 1 << 40
    /// Creating device nodes needs real root (not root of a user namespace); without it such entries are refused,
    /// or skipped with `skipDevices`.
    public var allowDevices = geteuid() == 0 && !UserNamespace.isInsideUserNamespace
    /// Leave device nodes out instead of refusing them (layer dirs of rootless builds: the pushed layer keeps them).
    public var skipDevices = false
    /// Applying owners needs root (or a user namespace that maps them).
    public var preserveOwnership = geteuid() == 0

    public init(target: String) { self.target = target }

    /// What one extraction did.
    public struct Summary: Sendable, Equatable {
        public var entries = 0
        public var bytes: Int64 = 0
        public var whiteouts = 0
    }

    /// Extracts the layer file at `layerPath` into `target` (created if absent).
    @discardableResult
    public func extract(layerPath: String) throws -> Summary {
        try FileSystem.makeDirectory(target)
        let rootfd = open(target, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard rootfd >= 0 else { throw LayersError.posix("open", target) }
        defer { close(rootfd) }
        let reader = try TarReader(path: layerPath)
        var state = ExtractionState(rootfd: rootfd, extractor: self)
        while let header = try reader.next() {
            try state.apply(header, reader: reader)
        }
        try state.finishDirectories()
        return state.summary
    }
}

/// The bookkeeping of one extraction: what this layer wrote, and directory times to set last.
private struct ExtractionState {
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
        if path.isEmpty { return } // the root itself
        guard header.size >= 0, header.size <= extractor.maxEntrySize else {
            throw LayersError.hostileEntry(path: header.path, reason: "declared size \(header.size) bytes is beyond the limit of \(extractor.maxEntrySize)")
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
        case let .symlink(linkTarget):
            if !linkTarget.hasPrefix("/") {
                try checkRelativeLink(linkTarget, from: parent, entry: header.path)
            }
            guard symlinkat(linkTarget, parentfd, name) == 0 else { throw LayersError.posix("symlink", path) }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
            try setTime(parentfd: parentfd, name: name, mtime: header.mtime, path: path)
        case let .hardlink(linkTarget):
            let targetPath = try normalize(linkTarget, original: header.path, what: "hard link target")
            let (targetParent, targetName) = splitParent(targetPath)
            let targetfd: Int32
            do { targetfd = try openDirectory(targetParent, create: false) } catch LayersError.system {
                throw LayersError.hostileEntry(path: header.path, reason: "hard link to \"\(linkTarget)\", which the layers so far do not contain")
            }
            defer { close(targetfd) }
            var st = stat()
            guard fstatat(targetfd, targetName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw LayersError.hostileEntry(path: header.path, reason: "hard link to \"\(linkTarget)\", which the layers so far do not contain")
            }
            guard st.st_mode & S_IFMT != S_IFDIR else {
                throw LayersError.hostileEntry(path: header.path, reason: "hard link to the directory \"\(linkTarget)\"")
            }
            guard linkat(targetfd, targetName, parentfd, name, 0) == 0 else { throw LayersError.posix("link", path) }
        case let .device(character, major, minor):
            guard extractor.allowDevices else {
                if extractor.skipDevices { return }
                throw LayersError.hostileEntry(path: header.path, reason: "device nodes can only be created as root")
            }
            let type: mode_t = character ? Glibc.S_IFCHR : Glibc.S_IFBLK
            guard cog_mknod_at(parentfd, name, type | header.mode, major, minor) == 0 else { throw LayersError.posix("mknod", path) }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        case .fifo:
            guard mkfifoat(parentfd, name, header.mode) == 0 else { throw LayersError.posix("mkfifo", path) }
            try setOwnerAndXattrs(parentfd: parentfd, name: name, header: header, path: path)
        }
        written.insert(path)
    }

    // MARK: paths

    /// `./a//b/` → `a/b`; refuses absolute paths and `..`.
    func normalize(_ raw: String, original: String, what: String = "path") throws -> String {
        if raw.hasPrefix("/") {
            throw LayersError.hostileEntry(path: original, reason: "absolute \(what) \"\(raw)\"")
        }
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw LayersError.hostileEntry(path: original, reason: "\(what) \"\(raw)\" contains \"..\"") }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// A relative symlink may not climb above the root from where it sits.
    func checkRelativeLink(_ target: String, from parent: String, entry: String) throws {
        var depth = parent.isEmpty ? 0 : parent.split(separator: "/").count
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
            if depth < 0 {
                throw LayersError.hostileEntry(path: entry, reason: "symlink to \"\(target)\" leads outside the image root")
            }
        }
    }

    /// Opens a directory inside the root, creating missing ones when asked.
    func openDirectory(_ path: String, create: Bool) throws -> Int32 {
        let fd = cog_open_in_root(rootfd, path.isEmpty ? "." : path, O_DIRECTORY | O_RDONLY, 0)
        if fd >= 0 { return fd }
        let code = errno
        guard create, code == ENOENT, !path.isEmpty else {
            if code == ENOTDIR { throw LayersError.hostileEntry(path: path, reason: "a parent of this path is not a directory") }
            throw LayersError.posix("open directory", path, code)
        }
        let (parent, name) = splitParent(path)
        let parentfd = try openDirectory(parent, create: true)
        defer { close(parentfd) }
        if mkdirat(parentfd, name, 0o755) != 0 && errno != EEXIST { throw LayersError.posix("mkdir", path) }
        let created = cog_open_in_root(rootfd, path, O_DIRECTORY | O_RDONLY, 0)
        guard created >= 0 else {
            var st = stat()
            if fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFLNK {
                throw LayersError.hostileEntry(path: path, reason: "its parent \"\(path)\" is a symlink to a directory the image does not have")
            }
            throw LayersError.posix("open directory", path)
        }
        return created
    }

    /// Removes what stands at `name` unless both it and the new entry are directories.
    func removeConflicting(parentfd: Int32, name: String, parent: String, keepDirectory: Bool) throws {
        var st = stat()
        guard fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            if keepDirectory { return }
            try removeTree(parentfd: parentfd, name: name, path: parent.isEmpty ? name : "\(parent)/\(name)")
        } else if unlinkat(parentfd, name, 0) != 0 {
            throw LayersError.posix("remove", name)
        }
    }

    /// Removes a directory and everything in it, never following symlinks.
    func removeTree(parentfd: Int32, name: String, path: String) throws {
        let fd = openat(parentfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw LayersError.posix("open", path) }
        try removeChildren(of: fd, path: path, keep: { _ in false })
        close(fd)
        guard unlinkat(parentfd, name, AT_REMOVEDIR) == 0 else { throw LayersError.posix("remove", path) }
    }

    /// Removes the children of the directory `fd` for which `keep` is false.
    func removeChildren(of fd: Int32, path: String, keep: (String) -> Bool) throws {
        let dupfd = dup(fd)
        guard let dir = fdopendir(dupfd) else { throw LayersError.posix("list", path) }
        defer { closedir(dir) }
        var children: [(String, Bool)] = []
        while let item = readdir(dir) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            children.append((name, item.pointee.d_type == UInt8(DT_DIR)))
        }
        for (name, isDirectory) in children {
            let childPath = path.isEmpty ? name : "\(path)/\(name)"
            if keep(childPath) { continue }
            if isDirectory {
                try removeTree(parentfd: fd, name: name, path: childPath)
            } else if unlinkat(fd, name, 0) != 0 {
                throw LayersError.posix("remove", childPath)
            }
        }
    }

    // MARK: whiteouts

    mutating func applyWhiteout(parent: String, name: String) throws {
        let parentfd: Int32
        do { parentfd = try openDirectory(parent, create: extractor.whiteouts != .apply) } catch LayersError.system where extractor.whiteouts == .apply {
            return // the parent is not there: nothing to hide
        }
        defer { close(parentfd) }
        if name == ".wh..wh..opq" {
            switch extractor.whiteouts {
            case .apply:
                let written = self.written
                try removeChildren(of: parentfd, path: parent, keep: { written.contains($0) })
            case let .overlay(namespace):
                let value = "y"
                guard fsetxattr(parentfd, "\(namespace).overlay.opaque", value, 1, 0) == 0 else {
                    throw LayersError.posix("mark opaque", parent)
                }
            }
            return
        }
        let hidden = String(name.dropFirst(4))
        let hiddenPath = parent.isEmpty ? hidden : "\(parent)/\(hidden)"
        guard !hidden.isEmpty, !hidden.contains("/"), hidden != "..", hidden != "." else {
            throw LayersError.hostileEntry(path: name, reason: "malformed whiteout")
        }
        switch extractor.whiteouts {
        case .apply:
            if written.contains(hiddenPath) { return }
            try removeConflicting(parentfd: parentfd, name: hidden, parent: parent, keepDirectory: false)
        case .overlay:
            try removeConflicting(parentfd: parentfd, name: hidden, parent: parent, keepDirectory: false)
            guard cog_mknod_at(parentfd, hidden, Glibc.S_IFCHR, 0, 0) == 0 else { throw LayersError.posix("create whiteout", hiddenPath) }
            written.insert(hiddenPath)
        }
    }

    // MARK: metadata

    func setOwnerAndXattrs(parentfd: Int32, name: String, header: TarReader.Header, path: String) throws {
        if extractor.preserveOwnership {
            // EINVAL: an id the user namespace does not map (beyond the subordinate range); the file stays root's.
            guard fchownat(parentfd, name, uid_t(header.uid), gid_t(header.gid), AT_SYMLINK_NOFOLLOW) == 0 || errno == EINVAL else {
                throw LayersError.posix("chown", path)
            }
        }
        if case .symlink = header.type { return }
        if case .directory = header.type {} else if case .regular = header.type {} else {
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
        guard utimensat(parentfd, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw LayersError.posix("set time", path) }
    }

    /// Directory modes and times are set last, deepest first, since writing into them changes their mtime.
    func finishDirectories() throws {
        for directory in directories.reversed() {
            let (parent, name) = splitParent(directory.path)
            let parentfd = try openDirectory(parent, create: false)
            defer { close(parentfd) }
            guard fchmodat(parentfd, name, directory.mode, 0) == 0 else { throw LayersError.posix("chmod", directory.path) }
            try setTime(parentfd: parentfd, name: name, mtime: directory.mtime, path: directory.path)
        }
    }
}

/// Writes to an open descriptor and closes it.
private final class FileDescriptorSink: ByteSink {
    private var fd: Int32
    let path: String
    init(fd: Int32, path: String) { self.fd = fd; self.path = path }
    deinit { if fd >= 0 { Glibc.close(fd) } }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { if errno == EINTR { continue }; throw LayersError.posix("write", path) }
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
