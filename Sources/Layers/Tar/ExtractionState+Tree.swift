import CArchive
import CSupport
import Foundation
import OCI

extension ExtractionState {
    // MARK: paths

    /// `./a//b/` → `a/b`; refuses absolute paths and `..`.
    func normalize(_ raw: String, original: String, what: String = "path") throws -> String {
        if raw.hasPrefix("/") {
            throw LayersError.hostileEntry(path: original, reason: "absolute \(what) \"\(raw)\"")
        }
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                throw LayersError.hostileEntry(path: original, reason: "\(what) \"\(raw)\" contains \"..\"")
            }
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
                throw LayersError.hostileEntry(
                    path: entry, reason: "symlink to \"\(target)\" leads outside the image root")
            }
        }
    }

    /// Opens a directory inside the root, creating missing ones when asked.
    func openDirectory(_ path: String, create: Bool) throws -> Int32 {
        let fd = cog_open_in_root(rootfd, path.isEmpty ? "." : path, O_DIRECTORY | O_RDONLY, 0)
        if fd >= 0 { return fd }
        let code = errno
        guard create, code == ENOENT, !path.isEmpty else {
            if code == ENOTDIR {
                throw LayersError.hostileEntry(path: path, reason: "a parent of this path is not a directory")
            }
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
                throw LayersError.hostileEntry(
                    path: path, reason: "its parent \"\(path)\" is a symlink to a directory the image does not have")
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
            guard cog_mknod_at(parentfd, hidden, Glibc.S_IFCHR, 0, 0) == 0 else {
                throw LayersError.posix("create whiteout", hiddenPath)
            }
            written.insert(hiddenPath)
        }
    }
}
