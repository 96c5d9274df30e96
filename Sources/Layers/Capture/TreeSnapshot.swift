import CSupport
import Foundation
import OCI

/// The capture method for hosts without overlayfs: record every path's metadata before a step, walk again
/// after it, and turn the differences into layer entries. It must walk the whole tree twice, which is exactly
/// what the overlay method avoids; `bench/capture.sh` measures the difference.
public struct TreeSnapshot: Sendable {
    struct State: Equatable, Sendable {
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var mtime: Int64
        var ctime: Int64
        var inode: UInt64
    }

    public let root: String
    let states: [String: State]

    /// Walks `root`, leaving out `excluded` paths (relative, with everything below them).
    public static func take(_ root: String, excluded: [String] = LayerCapture.excludedPaths) throws -> TreeSnapshot {
        var states: [String: State] = [:]
        let skip = Set(excluded)
        func walk(_ relative: String) throws {
            let directory = relative.isEmpty ? root : "\(root)/\(relative)"
            guard let dir = opendir(directory) else { throw LayersError.posix("list", directory) }
            defer { closedir(dir) }
            var children: [String] = []
            while let item = readdir(dir) {
                let name = withUnsafePointer(to: item.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name != "." && name != ".." { children.append(name) }
            }
            for name in children {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                if skip.contains(path) { continue }
                var st = stat()
                guard lstat("\(root)/\(path)", &st) == 0 else { continue }
                states[path] = State(
                    mode: st.st_mode, uid: st.st_uid, gid: st.st_gid, size: Int64(st.st_size),
                    mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                    ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec),
                    inode: UInt64(st.st_ino))
                if st.st_mode & S_IFMT == S_IFDIR { try walk(path) }
            }
        }
        try walk("")
        return TreeSnapshot(root: root, states: states)
    }

    /// The entries of the layer that turns `before` into `self`: new and changed paths (with their parent
    /// directories), whiteouts for removed paths (only the top-most of a removed subtree), and an opaque marker
    /// for a directory that was replaced.
    /// `mapOwner` maps owners seen on disk to owners in the layer (single-mapping rootless builds: caller → root).
    public func changes(since before: TreeSnapshot, mapOwner: ((Int, Int) -> (uid: Int, gid: Int))? = nil) throws
        -> [TarEntry]
    {
        var paths = Set<String>()
        var entries: [TarEntry] = []
        var replaced = Set<String>()
        for (path, state) in states {
            guard let old = before.states[path] else {
                paths.insert(path)
                continue
            }
            if old.inode != state.inode && state.mode & S_IFMT == S_IFDIR { replaced.insert(path) }
            if old != state { paths.insert(path) }
        }
        // Parents of every changed path belong in the layer too, as Docker's diff has them.
        for path in paths { for parent in Self.parents(of: path) where states[parent] != nil { paths.insert(parent) } }
        for path in paths.sorted(by: layerOrder) {
            guard let state = states[path] else { continue }
            var entry = try entry(path, state)
            if let mapOwner { (entry.uid, entry.gid) = mapOwner(entry.uid, entry.gid) }
            entries.append(entry)
            if replaced.contains(path) { entries.append(.opaqueWhiteout(in: path)) }
        }
        for path in before.states.keys where states[path] == nil {
            let parent = (path as NSString).deletingLastPathComponent
            // Only the top of a removed subtree needs a whiteout; a replaced directory is already opaque.
            if !parent.isEmpty && (states[parent] == nil || replaced.contains(parent)) { continue }
            entries.append(.whiteout(for: path))
        }
        return entries.sorted { layerOrder($0.path, $1.path) }
    }

    static func parents(of path: String) -> [String] {
        var result: [String] = []
        var current = (path as NSString).deletingLastPathComponent
        while !current.isEmpty {
            result.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        return result
    }

    private func entry(_ path: String, _ state: State) throws -> TarEntry {
        let full = "\(root)/\(path)"
        var entry = TarEntry(
            path: path, kind: .directory, mode: state.mode & 0o7777, uid: Int(state.uid), gid: Int(state.gid),
            mtime: state.mtime / 1_000_000_000)
        switch state.mode & S_IFMT {
        case S_IFDIR: break
        case S_IFREG: entry.kind = .regular(.file(path: full, size: state.size))
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(full, &buffer, buffer.count - 1)
            guard n >= 0 else { throw LayersError.posix("readlink", full) }
            entry.kind = .symlink(target: String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case S_IFIFO: entry.kind = .fifo
        default:
            var st = stat()
            lstat(full, &st)
            let device = (major: cog_dev_major(st.st_rdev), minor: cog_dev_minor(st.st_rdev))
            entry.kind =
                state.mode & S_IFMT == S_IFCHR
                ? .characterDevice(major: device.major, minor: device.minor)
                : .blockDevice(major: device.major, minor: device.minor)
        }
        return entry
    }
}
