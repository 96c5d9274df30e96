import Foundation
import OCI

/// `cog weights status`: each weight of cog.yaml and `weights.lock` — pending (not imported), stale (cog.yaml says
/// otherwise than the lockfile), orphaned (only in the lockfile), ready (every file in the local store) or
/// incomplete (`cog weights pull` would fetch some). Cog asks the registry for the last two; this reads the store,
/// which is what `predict` and `serve` need.
public struct WeightStatus: Sendable {
    public struct Row: Sendable {
        var name: String
        var target: String
        var status: String
        var entry: WeightsLock.Entry?
    }

    public struct Report: Sendable {
        public let rows: [Row]
        public var allReady: Bool { rows.allSatisfy { $0.status == "ready" } }

        public var table: String {
            let header = ["NAME", "TARGET", "STATUS", "SIZE", "LAYERS", "DIGEST"]
            let cells = rows.map { row in
                [
                    row.name, row.target, row.status, row.entry.map { WeightImport.size($0.size) } ?? "-",
                    row.entry.map { String($0.layers.count) } ?? "-",
                    row.entry.map { "sha256:" + $0.digest.dropFirst("sha256:".count).prefix(12) } ?? "-",
                ]
            }
            let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
            return ([header] + cells).map { line in
                line.enumerated().map { index, cell in
                    index == line.count - 1
                        ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
                }.joined() + "\n"
            }.joined()
        }

        public var json: String {
            let items: [OrderedJSON] = rows.map { row in
                var pairs: [(String, OrderedJSON)] = [
                    ("name", .string(row.name)), ("target", .string(row.target)), ("status", .string(row.status)),
                ]
                if let entry = row.entry {
                    pairs += [
                        ("size", .integer(entry.size)), ("sizeCompressed", .integer(entry.sizeCompressed)),
                        ("layerCount", .integer(Int64(entry.layers.count))),
                        ("fileCount", .integer(Int64(entry.files.count))), ("digest", .string(entry.digest)),
                    ]
                }
                return .object(pairs)
            }
            return String(decoding: OrderedJSON.object([("weights", .array(items))]).indented, as: UTF8.self)
        }
    }

    let loaded: LoadedConfig
    let store: WeightFileStore

    public init(loaded: LoadedConfig, store: WeightFileStore) { (self.loaded, self.store) = (loaded, store) }

    public func rows() throws -> Report {
        let lock = try WeightsLock.load(projectDirectory: loaded.projectDirectory) ?? WeightsLock()
        var rows: [Row] = loaded.config.config.weights.map { weight in
            guard let entry = lock.entry(named: weight.name) else {
                return Row(name: weight.name, target: weight.target, status: "pending")
            }
            if !Self.drift(weight, entry).isEmpty {
                return Row(name: weight.name, target: weight.target, status: "stale", entry: entry)
            }
            let cached = entry.files.allSatisfy { (try? Digest(parsing: $0.digest)).map(store.contains) == true }
            return Row(name: weight.name, target: weight.target, status: cached ? "ready" : "incomplete", entry: entry)
        }
        let configured = Set(rows.map(\.name))
        for entry in lock.weights where !configured.contains(entry.name) {
            rows.append(Row(name: entry.name, target: entry.target, status: "orphaned", entry: entry))
        }
        return Report(rows: rows)
    }

    /// What differs between cog.yaml's weight and its lockfile entry (target, URIs, patterns); empty when nothing.
    static func drift(_ weight: WeightSource, _ entry: WeightsLock.Entry) -> [String] {
        var changes: [String] = []
        if weight.target != entry.target { changes.append("target: \(entry.target) → \(weight.target)") }
        let written = weight.sources.map { location in
            (
                uri: location.uri, include: location.include.map { $0.trimmingCharacters(in: .whitespaces) }.sorted(),
                exclude: location.exclude.map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            )
        }
        if written.count != entry.sources.count {
            changes.append("sources: \(entry.sources.count) → \(written.count)")
            return changes
        }
        for (new, old) in zip(written, entry.sources) {
            let uri = (try? WeightInventory.normalize(new.uri, projectDirectory: "").uri) ?? new.uri
            if uri != old.uri { changes.append("uri: \(old.uri) → \(uri)") }
            if new.include != old.include { changes.append("include changed") }
            if new.exclude != old.exclude { changes.append("exclude changed") }
        }
        return changes
    }

    /// Cog's check before `cog push` and `cog train`: the lockfile must match cog.yaml.
    public static func checkDrift(loaded: LoadedConfig) throws {
        let weights = loaded.config.config.weights
        guard !weights.isEmpty else { return }
        guard let lock = try WeightsLock.load(projectDirectory: loaded.projectDirectory) else {
            throw WeightsError.lockfile(
                "managed weights configured but no lockfile found: \(loaded.projectDirectory)/\(WeightsLock.fileName) does not exist\nRun 'cog weights import' first"
            )
        }
        var problems: [String] = []
        for weight in weights {
            guard let entry = lock.entry(named: weight.name) else {
                problems.append("\"\(weight.name)\": not imported yet")
                continue
            }
            let changes = drift(weight, entry)
            if !changes.isEmpty {
                problems.append("\"\(weight.name)\": config changed (\(changes.joined(separator: "; ")))")
            }
        }
        let names = Set(weights.map(\.name))
        for entry in lock.weights where !names.contains(entry.name) {
            problems.append("\"\(entry.name)\": removed from cog.yaml but still in lockfile")
        }
        guard problems.isEmpty else {
            throw WeightsError.lockfile(
                "weights.lock is out of sync with cog.yaml:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
                    + "\nRun 'cog weights import' to update.")
        }
    }
}
