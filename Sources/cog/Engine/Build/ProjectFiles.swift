import Foundation
import Layers

/// The project directory as the entries of the code layer: BuildKit's build context, minus what `.dockerignore`
/// excludes and minus cog's own state (the cache directory, with its scratch dirs) wherever that lies under the
/// project — a CI job whose HOME is the checkout keeps `~/.cache/cog` inside it.
///
/// Every name goes through byte for byte (including names that are not UTF-8); symlinks are copied as links,
/// wherever they point, as Docker copies them; hard links stay links; sockets cannot be stored and are left out.
struct ProjectFiles {
    let directory: String
    let excludes: [String]
    /// Directories that belong to cog (its cache root); never part of the context.
    var ownState: [String] = []

    /// The entries under `destination` (such as `/src`), owned by root, in layer order, and the layer paths of
    /// the sockets left out.
    func entries(destination: String) throws -> (entries: [TarEntry], skippedSockets: [BytePath]) {
        let matcher = IgnoreMatcher(patterns: excludes)
        let hidden = Self.relativePaths(of: ownState, under: directory)
        let descended = DescendedDirectories()
        var scanner = DirectoryScanner(root: directory)
        let prefix = String(destination.drop { $0 == "/" })
        scanner.prefix = BytePath(prefix)
        scanner.exclude = { path, isDirectory in
            if hidden.contains(path) { return true }
            guard matcher.excludes(path) else { return false }
            // An excluded directory an exception may reach into is walked; it enters the layer only above a path
            // that is kept (as fsutil emits parent directories lazily).
            guard isDirectory, matcher.descends(into: path) else { return true }
            descended.paths.insert(prefix.isEmpty ? path : "\(prefix)/\(path)")
            return false
        }
        scanner.mapOwner = { _, _ in (0, 0) }
        scanner.includeXattrs = false
        var sockets: [BytePath] = []
        scanner.skippedSocket = { sockets.append($0) }
        let prefixDirectories = IgnoreMatcher.prefixes(of: prefix).map { TarEntry.directory($0) }
        let scanned = try scanner.scan()  // fills `descended`
        let excluded = Set(descended.paths.map { BytePath($0) })
        return (prefixDirectories + Self.keepingParentsOfKept(scanned, excluded: excluded), sockets)
    }

    /// `entries` (pre-order) without the directories in `excluded`, except those above an entry that stays.
    static func keepingParentsOfKept(_ entries: [TarEntry], excluded: Set<BytePath>) -> [TarEntry] {
        guard !excluded.isEmpty else { return entries }
        var result: [TarEntry] = []
        var pending: [TarEntry] = []  // excluded directories above the current entry, not written yet
        for entry in entries {
            while let last = pending.last, !entry.path.bytes.starts(with: last.path.bytes + [0x2f]) {
                pending.removeLast()
            }
            if excluded.contains(entry.path) {
                pending.append(entry)
                continue
            }
            result += pending
            pending.removeAll()
            result.append(entry)
        }
        return result
    }

    /// The paths of `directories` relative to `root` for those inside it (symbolic links resolved); when one is
    /// the root itself, the names cog keeps there.
    static func relativePaths(of directories: [String], under root: String) -> Set<String> {
        let resolvedRoot = resolve(root)
        var result = Set<String>()
        for directory in directories {
            let resolved = resolve(directory)
            if resolved == resolvedRoot {
                result.formUnion(["blobs", "layers", "layers-single", "steps", "mounts", "images", "scratch"])
            } else if resolved.hasPrefix(resolvedRoot + "/") {
                result.insert(String(resolved.dropFirst(resolvedRoot.count + 1)))
            }
        }
        return result
    }

    private static func resolve(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return (path as NSString).standardizingPath }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The excluded directories a scan walked into (the scanner's filter records them).
private final class DescendedDirectories {
    var paths = Set<String>()
}
