import Foundation
import OCI

/// The weights a served model sees: for each weight in `weights.lock`, a folder assembled from the local store by
/// hard links, mounted read-only at the weight's target. Cog assembles them in the project's `.cog/mounts`; here
/// they are assembled beside the store (`<cache>/weights/mounts/<id>`), on the store's file system, so a project on
/// another disk than the cache still gets hard links. Removed when the model stops.
public final class WeightMounts: Sendable {
    /// Host folder and target in the container, per weight.
    public let binds: [(source: String, target: String)]
    let directory: String

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
        let directory =
            "\(store.root)/mounts/\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
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
            throw error
        }
        return WeightMounts(binds: binds, directory: directory)
    }

    private init(binds: [(source: String, target: String)], directory: String) {
        (self.binds, self.directory) = (binds, directory)
    }

    /// Removes the assembled folders (the store keeps the files).
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
