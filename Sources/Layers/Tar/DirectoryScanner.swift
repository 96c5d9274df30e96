import CSupport
import Foundation
import OCI

/// Walks a directory tree and lists it as tar entries in layer order, without reading file contents.
///
/// Used for a step's overlay upper directory (whiteouts converted to OCI form) and for copying a project.
public struct DirectoryScanner {
    /// Which paths to leave out; given the relative path and whether it is a directory.
    public typealias Filter = (_ path: String, _ isDirectory: Bool) -> Bool

    public var root: String
    /// Prepended to every path (for example `src` for a project copied to `/src`).
    public var prefix: String = ""
    /// Returns true for paths to exclude; a directory excluded is excluded with everything below it.
    public var exclude: Filter = { _, _ in false }
    /// Converts overlayfs whiteouts (0/0 character devices, `*.overlay.opaque` xattrs) to OCI whiteouts.
    public var overlayWhiteouts = false
    /// Maps the owner on disk to the owner in the layer; nil keeps it.
    public var mapOwner: ((_ uid: Int, _ gid: Int) -> (uid: Int, gid: Int))?
    /// Whether to record extended attributes (overlay's own are never recorded).
    public var includeXattrs = true

    public init(root: String) { self.root = root }

    /// Lists the tree. Hard links within the tree become `.hardlink` entries pointing to the first path.
    public func scan() throws -> [TarEntry] {
        var entries: [TarEntry] = []
        var firstPathOfInode: [String: String] = [:]
        try walk(relative: "", into: &entries, inodes: &firstPathOfInode)
        return entries
    }

    private func layerPath(_ relative: String) -> String {
        prefix.isEmpty ? relative : (relative.isEmpty ? prefix : "\(prefix)/\(relative)")
    }

    private func walk(relative: String, into entries: inout [TarEntry], inodes: inout [String: String]) throws {
        let directory = relative.isEmpty ? root : "\(root)/\(relative)"
        var names = try listDirectory(directory)
        names.sort { layerOrder($0, $1) }
        for name in names {
            let childRelative = relative.isEmpty ? name : "\(relative)/\(name)"
            let fullPath = "\(root)/\(childRelative)"
            var st = stat()
            guard lstat(fullPath, &st) == 0 else { throw LayersError.posix("stat", fullPath) }
            let type = st.st_mode & S_IFMT
            let isDirectory = type == S_IFDIR
            if exclude(childRelative, isDirectory) { continue }
            let path = layerPath(childRelative)
            var owner = (uid: Int(st.st_uid), gid: Int(st.st_gid))
            if let mapOwner { owner = mapOwner(owner.uid, owner.gid) }
            let xattrs = includeXattrs ? try readXattrs(fullPath) : [:]
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
                let key = "\(st.st_dev):\(st.st_ino)"
                if st.st_nlink > 1, let first = inodes[key] {
                    entry.kind = .hardlink(target: first)
                } else {
                    if st.st_nlink > 1 { inodes[key] = path }
                    entry.kind = .regular(.file(path: fullPath, size: Int64(st.st_size)))
                }
            case S_IFLNK:
                entry.kind = .symlink(target: try readLink(fullPath))
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
                continue  // sockets never belong in a layer
            }
            entries.append(entry)
        }
    }

    private func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw LayersError.posix("list", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let item = readdir(dir) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw LayersError.posix("readlink", path) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func readXattrs(_ path: String) throws -> [String: [UInt8]] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let got = llistxattr(path, &names, size)
        guard got > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for raw in names[0..<got].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let length = lgetxattr(path, name, nil, 0)
            guard length >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: length)
            let read = length == 0 ? 0 : lgetxattr(path, name, &value, length)
            if read >= 0 { result[name] = Array(value[0..<read]) }
        }
        return result
    }
}
