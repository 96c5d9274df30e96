import Foundation
import Layers

extension BuildSession {
    /// `.cog/weights.json` in the project copy, as Cog's build writes it for a model with managed weights: each
    /// weight's name, target and set digest from `weights.lock`, so what serves the image knows which weights to
    /// deliver where. Nothing for a project without weights.
    /// - Throws: `WeightsError` when the project has weights but no lockfile (import them first, as Cog says).
    func weightsManifestEntries(destination: String) throws -> [TarEntry] {
        let weights = plan.config.config.weights
        guard !weights.isEmpty else { return [] }
        guard let lock = try WeightsLock.load(projectDirectory: projectDirectory) else {
            throw WeightsError.lockfile(
                "managed weights configured but no lockfile found: \(projectDirectory)/\(WeightsLock.fileName) does not exist\nRun 'cog weights import' first"
            )
        }
        let items: [OrderedJSON] = weights.compactMap { weight in
            guard let entry = lock.entry(named: weight.name) else { return nil }
            return .object([
                ("name", .string(weight.name)), ("target", .string(weight.target)),
                ("setDigest", .string(entry.setDigest)),
            ])
        }
        let folder = String(destination.drop { $0 == "/" }) + "/.cog"
        return [
            .directory(folder),
            .file("\(folder)/weights.json", Array(OrderedJSON.object([("weights", .array(items))]).indented)),
        ]
    }
}
