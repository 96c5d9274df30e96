import CSupport
import Foundation
import OCI

/// Walks a directory tree and lists it as tar entries in layer order, without reading file contents.
///
/// Used for a step's overlay upper directory (whiteouts converted to OCI form) and for copying a project.
public struct DirectoryScanner {
    /// Which paths to leave out; given the relative path and whether it is a directory.
    public typealias Filter = (_ path: String, _ isDirectory: Bool) -> Bool

    public var root: BytePath
    /// Prepended to every path (for example `src` for a project copied to `/src`).
    public var prefix: BytePath = ""
    /// Returns true for paths to exclude; a directory excluded is excluded with everything below it. The path is
    /// relative, as text (bytes that are not UTF-8 become U+FFFD, as Go's pattern matching reads them).
    public var exclude: Filter = { _, _ in false }
    /// Converts overlayfs whiteouts (0/0 character devices, `*.overlay.opaque` xattrs) to OCI whiteouts.
    public var overlayWhiteouts = false
    /// Maps the owner on disk to the owner in the layer; nil keeps it.
    public var mapOwner: ((_ uid: Int, _ gid: Int) -> (uid: Int, gid: Int))?
    /// Whether to record extended attributes (overlay's own are never recorded).
    public var includeXattrs = true
    /// Told about each socket left out (a socket cannot be stored in a layer), with its path in the layer.
    public var skippedSocket: (BytePath) -> Void = { _ in }

    public init(root: String) { self.root = BytePath(root) }
    public init(root: BytePath) { self.root = root }

    /// Lists the tree. Hard links within the tree become `.hardlink` entries pointing to the first path.
    /// Symlinks are recorded as links, never followed.
    public func scan() throws -> [TarEntry] {
        var entries: [TarEntry] = []
        var firstPathOfInode: [FileIdentity: BytePath] = [:]
        try walk(relative: "", into: &entries, inodes: &firstPathOfInode)
        return entries
    }

    private func walk(relative: BytePath, into entries: inout [TarEntry], inodes: inout [FileIdentity: BytePath])
        throws
    {
        var names = try PathCalls.listDirectory(root.appending(relative))
        names.sort { layerOrder($0, $1) }
        for name in names {
            let childRelative = relative.appending(name)
            let fullPath = root.appending(childRelative)
            let st = try PathCalls.status(fullPath)
            let type = st.st_mode & S_IFMT
            let isDirectory = type == S_IFDIR
            if exclude(String(decoding: childRelative.bytes, as: UTF8.self), isDirectory) { continue }
            let path = prefix.appending(childRelative)
            if type == S_IFSOCK {
                skippedSocket(path)
                continue
            }
            var owner = (uid: Int(st.st_uid), gid: Int(st.st_gid))
            if let mapOwner { owner = mapOwner(owner.uid, owner.gid) }
            let xattrs = includeXattrs ? try PathCalls.extendedAttributes(fullPath) : [:]
            var entry = TarEntry(
                path: path, kind: .directory, mode: UInt32(st.st_mode & 0o7777), uid: owner.uid, gid: owner.gid,
                mtime: Int64(st.st_mtim.tv_sec), xattrs: xattrs.filter { !$0.key.contains(".overlay.") })
            switch type {
            case S_IFDIR:
                entries.append(entry)
                if overlayWhiteouts,
                    xattrs["trusted.overlay.opaque"] == Array("y".utf8)
                        || xattrs["user.overlay.opaque"] == Array("y".utf8)
                {
                    entries.append(.opaqueWhiteout(in: path))
                }
                try walk(relative: childRelative, into: &entries, inodes: &inodes)
                continue
            case S_IFREG:
                let key = FileIdentity(st)
                if st.st_nlink > 1, let first = inodes[key] {
                    entry.kind = .hardlink(target: first)
                } else {
                    if st.st_nlink > 1 { inodes[key] = path }
                    entry.kind = .regular(.file(path: fullPath, size: Int64(st.st_size)))
                }
            case S_IFLNK:
                entry.kind = .symlink(target: try PathCalls.readLink(fullPath))
            case S_IFCHR:
                let major = cog_dev_major(st.st_rdev)
                let minor = cog_dev_minor(st.st_rdev)
                if overlayWhiteouts && major == 0 && minor == 0 {
                    entries.append(.whiteout(for: path))
                    continue
                }
                entry.kind = .characterDevice(major: major, minor: minor)
            case S_IFBLK:
                entry.kind = .blockDevice(major: cog_dev_major(st.st_rdev), minor: cog_dev_minor(st.st_rdev))
            case S_IFIFO:
                entry.kind = .fifo
            default:
                continue
            }
            entries.append(entry)
        }
    }
}

/// A file's device and inode: the names of one file (hard links) share it.
struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}
