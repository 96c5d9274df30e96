import CArchive
import CSupport
import Foundation
import OCI

extension ExtractionState {
    // MARK: paths

    /// `./a//b/` → `a/b`; refuses absolute paths and `..`.
    func normalize(_ raw: BytePath, original: BytePath, what: String = "path") throws -> BytePath {
        if raw.hasPrefix("/") {
            throw LayersError.hostileEntry(path: original.description, reason: "absolute \(what) \"\(raw)\"")
        }
        var parts: [UInt8] = []
        for part in raw.components {
            if part == "." { continue }
            if part == ".." {
                throw LayersError.hostileEntry(
                    path: original.description, reason: "\(what) \"\(raw)\" contains \"..\"")
            }
            if !parts.isEmpty { parts.append(0x2f) }
            parts += part.bytes
        }
        return BytePath(parts)
    }

    /// Opens a directory inside the root, creating missing ones when asked.
    func openDirectory(_ path: BytePath, create: Bool) throws -> Int32 {
        let fd = openInRoot(path)
        if fd >= 0 { return fd }
        let code = errno
        guard create, code == ENOENT, !path.isEmpty else {
            if code == ENOTDIR {
                throw LayersError.hostileEntry(
                    path: path.description, reason: "a parent of this path is not a directory")
            }
            throw LayersError.posix("open directory", path.description, code)
        }
        let (parent, name) = path.parentAndName
        let parentfd = try openDirectory(parent, create: true)
        defer { close(parentfd) }
        if name.withCString({ mkdirat(parentfd, $0, 0o755) }) != 0 && errno != EEXIST {
            throw LayersError.posix("mkdir", path.description)
        }
        let created = openInRoot(path)
        guard created >= 0 else {
            var st = stat()
            if name.withCString({ fstatat(parentfd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0,
                st.st_mode & S_IFMT == S_IFLNK
            {
                throw LayersError.hostileEntry(
                    path: path.description,
                    reason: "its parent \"\(path)\" is a symlink to a directory the image does not have")
            }
            throw LayersError.posix("open directory", path.description)
        }
        return created
    }

    /// The directory `path` below the root, every symlink resolved inside it. A path longer than the kernel takes
    /// in one call is resolved in root up to a directory below the limit, and from there one component at a time
    /// without following symlinks (a deep tree's own directories).
    private func openInRoot(_ path: BytePath) -> Int32 {
        if path.isEmpty { return cog_open_in_root(rootfd, ".", O_DIRECTORY | O_RDONLY, 0) }
        guard path.count > PathCalls.limit else {
            return path.withCString { cog_open_in_root(rootfd, $0, O_DIRECTORY | O_RDONLY, 0) }
        }
        let cut = path.bytes[..<PathCalls.limit].lastIndex(of: 0x2f) ?? 0
        var fd = openInRoot(BytePath(bytes: path.bytes[..<cut]))
        for component in BytePath(bytes: path.bytes[(cut + 1)...]).components where fd >= 0 {
            let next = component.withCString { openat(fd, $0, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
            let code = errno
            close(fd)
            errno = code
            fd = next
        }
        return fd
    }

    /// Removes what stands at `name` unless both it and the new entry are directories.
    func removeConflicting(parentfd: Int32, name: BytePath, parent: BytePath, keepDirectory: Bool) throws {
        var st = stat()
        guard name.withCString({ fstatat(parentfd, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            if keepDirectory { return }
            try removeTree(parentfd: parentfd, name: name, path: parent.appending(name))
        } else if name.withCString({ unlinkat(parentfd, $0, 0) }) != 0 {
            throw LayersError.posix("remove", parent.appending(name).description)
        }
    }

    /// Removes a directory and everything in it, never following symlinks.
    func removeTree(parentfd: Int32, name: BytePath, path: BytePath) throws {
        let fd = name.withCString { openat(parentfd, $0, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw LayersError.posix("open", path.description) }
        try removeChildren(of: fd, path: path, keep: { _ in false })
        close(fd)
        guard name.withCString({ unlinkat(parentfd, $0, AT_REMOVEDIR) }) == 0 else {
            throw LayersError.posix("remove", path.description)
        }
    }

    /// Removes the children of the directory `fd` for which `keep` is false.
    func removeChildren(of fd: Int32, path: BytePath, keep: (BytePath) -> Bool) throws {
        let dupfd = dup(fd)
        guard let dir = fdopendir(dupfd) else { throw LayersError.posix("list", path.description) }
        defer { closedir(dir) }
        var children: [(BytePath, Bool)] = []
        while let item = readdir(dir) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { BytePath(cString: $0)! }
            }
            if name == "." || name == ".." { continue }
            children.append((name, item.pointee.d_type == UInt8(DT_DIR)))
        }
        for (name, isDirectory) in children {
            let childPath = path.appending(name)
            if keep(childPath) { continue }
            if isDirectory {
                try removeTree(parentfd: fd, name: name, path: childPath)
            } else if name.withCString({ unlinkat(fd, $0, 0) }) != 0 {
                throw LayersError.posix("remove", childPath.description)
            }
        }
    }

    // MARK: whiteouts

    mutating func applyWhiteout(parent: BytePath, name: BytePath) throws {
        let parentfd: Int32
        do { parentfd = try openDirectory(parent, create: extractor.whiteouts != .apply) } catch LayersError.system
            where extractor.whiteouts == .apply
        {
            return  // the parent is not there: nothing to hide
        }
        defer { close(parentfd) }
        if name == ".wh..wh..opq" {
            switch extractor.whiteouts {
            case .apply:
                let written = self.written
                try removeChildren(of: parentfd, path: parent, keep: { written.contains($0) })
            case .overlay(let namespace):
                let value = "y"
                guard fsetxattr(parentfd, "\(namespace).overlay.opaque", value, 1, 0) == 0 else {
                    throw LayersError.posix("mark opaque", parent.description)
                }
            }
            return
        }
        let hidden = BytePath(bytes: name.bytes.dropFirst(4))
        let hiddenPath = parent.appending(hidden)
        guard !hidden.isEmpty, !hidden.bytes.contains(0x2f), hidden != "..", hidden != "." else {
            throw LayersError.hostileEntry(path: name.description, reason: "malformed whiteout")
        }
        switch extractor.whiteouts {
        case .apply:
            if written.contains(hiddenPath) { return }
            try removeConflicting(parentfd: parentfd, name: hidden, parent: parent, keepDirectory: false)
        case .overlay:
            try removeConflicting(parentfd: parentfd, name: hidden, parent: parent, keepDirectory: false)
            guard hidden.withCString({ cog_mknod_at(parentfd, $0, Glibc.S_IFCHR, 0, 0) }) == 0 else {
                throw LayersError.posix("create whiteout", hiddenPath.description)
            }
            written.insert(hiddenPath)
        }
    }
}
