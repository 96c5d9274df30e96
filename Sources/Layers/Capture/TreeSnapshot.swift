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
        var device: UInt64
        var links: UInt64
    }

    public let root: BytePath
    /// Every path below the root (relative, byte for byte), sockets left out: a layer cannot hold them.
    let states: [BytePath: State]

    /// Walks `root`, leaving out `excluded` paths (relative, with everything below them).
    public static func take(_ root: String, excluded: [String] = LayerCapture.excludedPaths) throws -> TreeSnapshot {
        let root = BytePath(root)
        var states: [BytePath: State] = [:]
        let skip = Set(excluded.map { BytePath($0) })
        func walk(_ relative: BytePath) throws {
            for name in try PathCalls.listDirectory(root.appending(relative)) {
                let path = relative.appending(name)
                if skip.contains(path) { continue }
                guard let st = try? PathCalls.status(root.appending(path)) else { continue }  // gone meanwhile
                if st.st_mode & S_IFMT == S_IFSOCK { continue }
                states[path] = State(
                    mode: st.st_mode, uid: st.st_uid, gid: st.st_gid, size: Int64(st.st_size),
                    mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                    ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec),
                    inode: UInt64(st.st_ino), device: UInt64(st.st_dev), links: UInt64(st.st_nlink))
                if st.st_mode & S_IFMT == S_IFDIR { try walk(path) }
            }
        }
        try walk("")
        return TreeSnapshot(root: root, states: states)
    }

    /// The entries of the layer that turns `before` into `self`: new and changed paths (with their parent
    /// directories), whiteouts for removed paths (only the top-most of a removed subtree), and an opaque marker
    /// for a directory that was replaced. Names of one file among the changes become one file and hard links to it.
    /// `mapOwner` maps owners seen on disk to owners in the layer (single-mapping rootless builds: caller → root).
    /// The change time of the paths in `untouched` is not compared (the sandbox altered it, not the step).
    public func changes(
        since before: TreeSnapshot, mapOwner: ((Int, Int) -> (uid: Int, gid: Int))? = nil,
        ignoringChangeTimeOf untouched: Set<BytePath> = []
    ) throws -> [TarEntry] {
        var paths = Set<BytePath>()
        var entries: [TarEntry] = []
        var replaced = Set<BytePath>()
        for (path, state) in states {
            guard let old = before.states[path] else {
                paths.insert(path)
                continue
            }
            if old.inode != state.inode && state.mode & S_IFMT == S_IFDIR { replaced.insert(path) }
            var compared = state
            if untouched.contains(path) { compared.ctime = old.ctime }
            if old != compared { paths.insert(path) }
        }
        // Parents of every changed path belong in the layer too, as Docker's diff has them.
        for path in paths { for parent in path.parents where states[parent] != nil { paths.insert(parent) } }
        var firstPathOfInode: [UInt64: [UInt64: BytePath]] = [:]
        for path in paths.sorted(by: layerOrder) {
            guard let state = states[path] else { continue }
            var entry = try entry(path, state)
            if state.mode & S_IFMT == S_IFREG, state.links > 1 {
                if let first = firstPathOfInode[state.device]?[state.inode] {
                    entry.kind = .hardlink(target: first)
                } else {
                    firstPathOfInode[state.device, default: [:]][state.inode] = path
                }
            }
            if let mapOwner { (entry.uid, entry.gid) = mapOwner(entry.uid, entry.gid) }
            entries.append(entry)
            if replaced.contains(path) { entries.append(.opaqueWhiteout(in: path)) }
        }
        for path in before.states.keys where states[path] == nil {
            let parent = path.parentAndName.parent
            // Only the top of a removed subtree needs a whiteout; a replaced directory is already opaque.
            if !parent.isEmpty && (states[parent] == nil || replaced.contains(parent)) { continue }
            entries.append(.whiteout(for: path))
        }
        return entries.sorted { layerOrder($0.path, $1.path) }
    }

    private func entry(_ path: BytePath, _ state: State) throws -> TarEntry {
        let full = root.appending(path)
        var entry = TarEntry(
            path: path, kind: .directory, mode: state.mode & 0o7777, uid: Int(state.uid), gid: Int(state.gid),
            mtime: state.mtime / 1_000_000_000,
            xattrs: try PathCalls.extendedAttributes(full).filter { !$0.key.contains(".overlay.") })
        switch state.mode & S_IFMT {
        case S_IFDIR: break
        case S_IFREG: entry.kind = .regular(.file(path: full, size: state.size))
        case S_IFLNK: entry.kind = .symlink(target: try PathCalls.readLink(full))
        case S_IFIFO: entry.kind = .fifo
        default:
            let st = try PathCalls.status(full)
            let device = (major: cog_dev_major(st.st_rdev), minor: cog_dev_minor(st.st_rdev))
            entry.kind =
                state.mode & S_IFMT == S_IFCHR
                ? .characterDevice(major: device.major, minor: device.minor)
                : .blockDevice(major: device.major, minor: device.minor)
        }
        return entry
    }
}
