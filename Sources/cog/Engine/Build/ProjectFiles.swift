import Foundation
import Layers

/// The project directory as the entries of the code layer, minus what `.dockerignore` excludes.
///
/// Every name goes through byte for byte (including names that are not UTF-8); symlinks are copied as links,
/// wherever they point, as Docker copies them; hard links stay links; sockets cannot be stored and are left out.
struct ProjectFiles {
    let directory: String
    let excludes: [String]

    /// The entries under `destination` (such as `/src`), owned by root, in layer order, and the layer paths of
    /// the sockets left out.
    func entries(destination: String) throws -> (entries: [TarEntry], skippedSockets: [BytePath]) {
        let matcher = IgnoreMatcher(patterns: excludes)
        var scanner = DirectoryScanner(root: directory)
        scanner.prefix = BytePath(String(destination.drop { $0 == "/" }))
        scanner.exclude = { path, _ in matcher.excludes(path) }
        scanner.mapOwner = { _, _ in (0, 0) }
        scanner.includeXattrs = false
        var sockets: [BytePath] = []
        scanner.skippedSocket = { sockets.append($0) }
        let prefixDirectories = IgnoreMatcher.prefixes(of: String(destination.drop { $0 == "/" })).map {
            TarEntry.directory($0)
        }
        let entries = prefixDirectories + (try scanner.scan())
        return (entries, sockets)
    }
}
