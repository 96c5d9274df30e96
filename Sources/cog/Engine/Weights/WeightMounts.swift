import Foundation
import OCI
import Synchronization

/// The weights a served model sees: for each weight in `weights.lock`, a folder assembled from the local store by
/// hard links, mounted read-only at the weight's target. Cog assembles them in the project's `.cog/mounts`; here
/// they are assembled beside the store (`<cache>/weights/mounts/<id>`), on the store's file system, so a project on
/// another disk than the cache still gets hard links. Removed when the model stops; each is locked (`<id>.lock`)
/// while its model runs, so folders a killed cog left behind are swept by the next one.
public final class WeightMounts: Sendable {
    /// Host folder and target in the container, per weight.
    public let binds: [(source: String, target: String)]
    let directory: String
    /// The open lock file (`flock`), held while the model runs; -1 once removed.
    private let lock: Mutex<Int32>

    /// Assembles the folders; nil when the project has no weights.
    /// - Throws: `WeightsError` when the lockfile is missing or a file is not in the store.
    public static func prepare(loaded: LoadedConfig, store: WeightFileStore) throws -> WeightMounts? {
        let weights = loaded.config.config.weights
        guard !weights.isEmpty else { return nil }
        guard let lock = try WeightsLock.load(projectDirectory: loaded.projectDirectory) else {
            throw WeightsError.lockfile(
                "managed weights configured but no lockfile found: \(loaded.projectDirectory)/\(WeightsLock.fileName) does not exist\nRun 'cog weights import' first"
            )
        }
        let mounts = "\(store.root)/mounts"
        sweep(mounts)
        try FileSystem.makeDirectory(mounts)
        let directory = "\(mounts)/\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        // Locked under a name the sweep ignores, then renamed: a sweep never sees a lock file nobody holds yet.
        let held = open(directory + ".locking", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o644)
        guard held >= 0 else { throw SystemCallError("open", path: directory + ".locking") }
        guard flock(held, LOCK_EX | LOCK_NB) == 0, rename(directory + ".locking", directory + ".lock") == 0 else {
            let error = SystemCallError("lock", path: directory + ".lock")
            unlink(directory + ".locking")
            close(held)
            throw error
        }
        var binds: [(String, String)] = []
        do {
            for weight in weights {
                guard let entry = lock.entry(named: weight.name) else {
                    throw WeightsError.lockfile(
                        "weights.lock is out of sync with cog.yaml:\n  - \"\(weight.name)\": not imported yet\nRun 'cog weights import' to update."
                    )
                }
                let folder = "\(directory)/\(weight.name)"
                try FileSystem.makeDirectory(folder)
                for file in entry.files {
                    let digest = try Digest(parsing: file.digest)
                    guard store.contains(digest) else {
                        throw WeightsError.notCached(weight: weight.name, path: file.path)
                    }
                    let destination = "\(folder)/\(file.path)"
                    try FileSystem.makeDirectory((destination as NSString).deletingLastPathComponent)
                    guard link(store.path(for: digest), destination) == 0 else {
                        throw SystemCallError("link", path: destination)
                    }
                }
                binds.append((folder, weight.target))
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            unlink(directory + ".lock")
            close(held)
            throw error
        }
        return WeightMounts(binds: binds, directory: directory, lock: held)
    }

    private init(binds: [(source: String, target: String)], directory: String, lock: Int32) {
        (self.binds, self.directory) = (binds, directory)
        self.lock = Mutex(lock)
    }

    /// Removes the assembled folders (the store keeps the files); later calls do nothing.
    public func remove() {
        let fd = lock.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        guard fd >= 0 else { return }
        try? FileManager.default.removeItem(atPath: directory)
        unlink(directory + ".lock")
        close(fd)
    }

    /// Removes the folders whose lock no process holds (a model killed before it could remove them).
    static func sweep(_ mounts: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: mounts)) ?? []
        for name in names where name.hasSuffix(".lock") {
            let path = "\(mounts)/\(name)"
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }  // in use
            try? FileManager.default.removeItem(atPath: String(path.dropLast(".lock".count)))
            unlink(path)
        }
    }
}
