import CSupport
import Foundation
import OCI

extension PackageLayers {
    /// Moves a group's files from `root` (a step's upper dir) into `target` by renaming them (same file system),
    /// recreating the directories above them with the same mode, owner, times and extended attributes, except
    /// overlayfs's own: an opaque directory stays opaque only in `root`, which sits below the package layers.
    public static func move(_ group: PackageGroup, from root: String, to target: String) throws {
        try FileSystem.makeDirectory(target)
        var created: [(path: String, source: stat)] = []
        var made = Set<String>()
        for path in group.paths {
            for directory in ancestors(of: path).reversed() where !made.contains(directory) {
                made.insert(directory)
                var st = stat()
                guard lstat("\(root)/\(directory)", &st) == 0 else { throw LayersError.posix("stat", directory) }
                try makeDirectory("\(target)/\(directory)", like: "\(root)/\(directory)", st)
                created.append((directory, st))
            }
            guard rename("\(root)/\(path)", "\(target)/\(path)") == 0 else {
                throw LayersError.posix("rename", "\(root)/\(path)")
            }
        }
        // Times last: adding entries changed them. Deepest first, so setting a child's leaves its parent alone.
        for (path, st) in created.reversed() {
            let times = [st.st_atim, st.st_mtim]
            guard utimensat(AT_FDCWD, "\(target)/\(path)", times, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw LayersError.posix("utimensat", "\(target)/\(path)")
            }
        }
    }

    /// Removes the directories under `root` that moving `groups` out left empty (deepest first); an opaque one
    /// stays, as it hides what the layers below hold.
    public static func removeEmptied(by groups: [PackageGroup], in root: String) {
        let directories = Set(groups.flatMap { $0.paths.flatMap { ancestors(of: $0) } })
        for directory in directories.sorted(by: { $0.count > $1.count }) {
            let full = "\(root)/\(directory)"
            if readXattr(full, "user.overlay.opaque") != nil || readXattr(full, "trusted.overlay.opaque") != nil {
                continue
            }
            rmdir(full)  // only succeeds when empty
        }
    }

    private static func makeDirectory(_ path: String, like source: String, _ st: stat) throws {
        guard mkdir(path, st.st_mode & 0o7777) == 0 else { throw LayersError.posix("mkdir", path) }
        // mkdir applies the umask; the copy keeps the source's bits.
        guard chmod(path, st.st_mode & 0o7777) == 0 else { throw LayersError.posix("chmod", path) }
        if st.st_uid != geteuid() || st.st_gid != getegid() {
            guard lchown(path, st.st_uid, st.st_gid) == 0 else { throw LayersError.posix("chown", path) }
        }
        let size = llistxattr(source, nil, 0)
        guard size > 0 else { return }
        var names = [CChar](repeating: 0, count: size)
        let got = llistxattr(source, &names, size)
        guard got >= 0 else { throw LayersError.posix("listxattr", source) }
        for raw in names[0..<got].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard !name.contains(".overlay."), let value = readXattr(source, name) else { continue }
            guard lsetxattr(path, name, value, value.count, 0) == 0 else { throw LayersError.posix("setxattr", path) }
        }
    }

    private static func readXattr(_ path: String, _ name: String) -> [UInt8]? {
        let length = lgetxattr(path, name, nil, 0)
        guard length >= 0 else { return nil }
        var value = [UInt8](repeating: 0, count: max(length, 1))
        let read = length == 0 ? 0 : lgetxattr(path, name, &value, length)
        return read >= 0 ? Array(value[0..<read]) : nil
    }
}
