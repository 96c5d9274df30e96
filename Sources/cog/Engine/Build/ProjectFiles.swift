import Foundation
import Layers

/// The project directory as the entries of the code layer, minus what `.dockerignore` excludes.
struct ProjectFiles {
    let directory: String
    let excludes: [String]

    /// Entries under `destination` (such as `/src`), owned by root, in layer order.
    func entries(destination: String) throws -> [TarEntry] {
        let matcher = IgnoreMatcher(patterns: excludes)
        var scanner = DirectoryScanner(root: directory)
        scanner.prefix = String(destination.drop { $0 == "/" })
        scanner.exclude = { path, _ in matcher.excludes(path) }
        scanner.mapOwner = { _, _ in (0, 0) }
        scanner.includeXattrs = false
        let prefixDirectories = IgnoreMatcher.prefixes(of: scanner.prefix).map { TarEntry.directory($0) }
        return prefixDirectories + (try scanner.scan())
    }
}
