import Foundation
import OCI

/// Turns what a step changed (its overlay upper dir) into a layer.
public enum LayerCapture {
    /// Paths that never belong in a layer: virtual file systems, scratch space, package caches, logs that only
    /// record the build's time, and Python byte-code caches of pip itself.
    public static let excludedPaths: [String] = [
        "proc", "sys", "dev", "tmp", "run",
        "var/cache/apt", "var/lib/apt/lists", "var/cache/debconf/config.dat-old", "var/cache/debconf/templates.dat-old",
        "var/lib/dpkg/status-old", "var/lib/dpkg/diversions-old", "var/cache/ldconfig/aux-cache",
        "var/log/apt", "var/log/dpkg.log", "var/log/alternatives.log", "var/log/bootstrap.log",
        "root/.cache", "root/.wget-hsts", "root/.python_history",
    ]

    /// Removes excluded paths and the mount points the sandbox created (when still empty), then writes the
    /// layer from what is left.
    /// - Parameters:
    ///   - mapOwner: maps owners seen on disk to owners in the layer (rootless builds map the caller to root).
    public static func capture(
        upper: String, createdMountpoints: [String], into store: BlobStore, options: LayerOptions,
        mapOwner: ((Int, Int) -> (uid: Int, gid: Int))? = nil
    ) throws -> WrittenLayer {
        try clean(upper: upper, createdMountpoints: createdMountpoints)
        return try write(upper: upper, into: store, options: options, mapOwner: mapOwner)
    }

    /// Writes the layer of an upper dir already cleaned (`clean`); it only reads the dir, so later steps may use
    /// it as a lower dir meanwhile.
    public static func write(
        upper: String, into store: BlobStore, options: LayerOptions,
        mapOwner: ((Int, Int) -> (uid: Int, gid: Int))? = nil
    ) throws -> WrittenLayer {
        var scanner = DirectoryScanner(root: upper)
        scanner.overlayWhiteouts = true
        scanner.mapOwner = mapOwner
        return try LayerWriter.write(entries: try scanner.scan(), to: store, options: options)
    }

    public static func clean(upper: String, createdMountpoints: [String]) throws {
        for path in excludedPaths { FileSystem.remove("\(upper)/\(path)") }
        removeCreated(createdMountpoints, in: upper)
    }

    /// Removes the mount points a sandbox created under `root`, when they are still empty.
    public static func removeCreated(_ createdMountpoints: [String], in root: String) {
        // Deepest first, so a created parent is empty by the time it is checked.
        for path in createdMountpoints.sorted(by: { $0.count > $1.count }) {
            let full = "\(root)/\(path)"
            var st = stat()
            guard lstat(full, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR {
                rmdir(full)  // only succeeds when empty
            } else if st.st_mode & S_IFMT == S_IFREG && st.st_size == 0 {
                unlink(full)
            }
        }
    }
}
