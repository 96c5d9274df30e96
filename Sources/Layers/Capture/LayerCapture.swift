import CSupport
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

    /// Removes the excluded paths and the created mount points from an upper dir. Nothing on the way is
    /// followed: a step that replaced `/var/log` by a symlink to a host directory must not have cog delete there.
    public static func clean(upper: String, createdMountpoints: [String]) throws {
        let rootfd = open(upper, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard rootfd >= 0 else { throw LayersError.posix("open", upper) }
        defer { close(rootfd) }
        for path in excludedPaths where cog_remove_beneath(rootfd, path, 0) != 0 {
            throw LayersError.posix("remove (it must not reach a layer)", "\(upper)/\(path)")
        }
        removeCreated(createdMountpoints, in: rootfd)
    }

    /// Removes the mount points a sandbox created under `root`, when they are still empty.
    public static func removeCreated(_ createdMountpoints: [String], in root: String) {
        let rootfd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard rootfd >= 0 else { return }
        defer { close(rootfd) }
        removeCreated(createdMountpoints, in: rootfd)
    }

    private static func removeCreated(_ createdMountpoints: [String], in rootfd: Int32) {
        // Deepest first, so a created parent is empty by the time it is checked. A mount point that is no longer
        // empty (the step wrote into it) stays: that is the step's content, not ours.
        for path in createdMountpoints.sorted(by: { $0.count > $1.count }) {
            _ = cog_remove_beneath(rootfd, path, 1)
        }
    }
}
