import Foundation
import OCI

/// How a package step's changes are cut into layers: each large Python distribution in a layer of its own, so
/// two images that install the same wheel on the same base share that layer byte for byte.
public struct LayerSplit: Sendable, Equatable {
    /// Distributions with at least this many bytes installed get a layer of their own.
    public var minimumPackageBytes: Int64
    /// At most this many package layers per step (the largest distributions win).
    public var maximumPackageLayers: Int

    public init(minimumPackageBytes: Int64 = 20 << 20, maximumPackageLayers: Int = 24) {
        self.minimumPackageBytes = minimumPackageBytes
        self.maximumPackageLayers = maximumPackageLayers
    }

    /// One layer per step.
    public static let none = LayerSplit(minimumPackageBytes: .max, maximumPackageLayers: 0)
}

/// A distribution that gets a layer of its own, and the files and symlinks it owns (paths in the layer).
public struct PackageGroup: Sendable, Equatable {
    /// `name version`, from its `.dist-info` directory.
    public let name: String
    public let paths: [String]
    public let bytes: Int64
}

/// Finds the distributions a step installed (through each `*.dist-info/RECORD`) and which of its files each owns.
public enum PackageLayers {
    /// What pip and uv write next to a distribution that depends on the rest of the environment: RECORD lists
    /// REQUESTED (absent when the distribution came as a dependency), direct_url.json names where it came
    /// from, INSTALLER the tool. They stay in the step's first layer, so package layers hold only the wheel's
    /// own files and the byte code compiled from them (hash-based under SOURCE_DATE_EPOCH, so reproducible).
    static let environmentMetadata: Set<String> = [
        "RECORD", "REQUESTED", "INSTALLER", "direct_url.json", "uv_cache.json",
    ]

    /// The distributions among `entries` (a step's layer, paths relative to the image root) with at least
    /// `split.minimumPackageBytes` installed, at most `split.maximumPackageLayers` of them, ordered by name.
    /// RECORD files are read under `root`. A path two distributions claim stays with neither.
    public static func groups(entries: [TarEntry], root: String, split: LayerSplit) -> [PackageGroup] {
        guard split.maximumPackageLayers > 0 else { return [] }
        var sizes: [String: Int64] = [:]
        var records: [String] = []
        // Paths that are not UTF-8 are never a distribution's (pip writes UTF-8 RECORDs): they stay in the first layer.
        for entry in entries {
            guard let path = entry.path.string, !splitParent(path).name.hasPrefix(".wh.") else { continue }
            switch entry.kind {
            case .regular(let content):
                sizes[path] = content.size
                if path.hasSuffix(".dist-info/RECORD") { records.append(path) }
            case .symlink: sizes[path] = 0
            default: break
            }
        }
        let byteCode = ByteCodeIndex(paths: sizes.keys)
        var owned: [(name: String, paths: Set<String>)] = []
        for record in records.sorted() {
            guard let text = try? String(contentsOfFile: "\(root)/\(record)", encoding: .utf8) else { continue }
            let distInfo = splitParent(record).parent
            let site = splitParent(distInfo).parent
            var paths = Set<String>()
            for row in text.split(whereSeparator: \.isNewline) {
                guard let path = normalize(firstField(of: row), under: site), sizes[path] != nil else { continue }
                let (parent, name) = splitParent(path)
                if parent == distInfo && environmentMetadata.contains(name) { continue }
                paths.insert(path)
                if path.hasSuffix(".py") { paths.formUnion(byteCode.compiled(from: path)) }
            }
            owned.append((label(of: distInfo), paths))
        }
        var claims: [String: Int] = [:]
        for (_, paths) in owned { for path in paths { claims[path, default: 0] += 1 } }
        let groups = owned.map { name, paths in
            let mine = paths.filter { claims[$0] == 1 }
            return PackageGroup(
                name: name, paths: mine.sorted { layerOrder($0, $1) }, bytes: mine.reduce(0) { $0 + sizes[$1]! })
        }
        let large = groups.filter { $0.bytes >= split.minimumPackageBytes }
            .sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.name < $1.name }
        return large.prefix(split.maximumPackageLayers).sorted { $0.name < $1.name }
    }

    /// Splits a step's `entries` into its first layer (everything the groups do not own, whiteouts and opaque
    /// markers included) and one entry list per group: its files with the directories above them, as the step
    /// left them. Directories only emptied by the split leave the first layer.
    public static func partition(_ entries: [TarEntry], groups: [PackageGroup]) -> (
        rest: [TarEntry], groups: [[TarEntry]]
    ) {
        var byPath: [String: TarEntry] = [:]
        for entry in entries { if let path = entry.path.string { byPath[path] = entry } }
        var owner: [String: Int] = [:]
        for (index, group) in groups.enumerated() { for path in group.paths { owner[path] = index } }
        let emptied = Set(owner.keys.flatMap { ancestors(of: $0) })
        var lists = [[TarEntry]](repeating: [], count: groups.count)
        for (index, group) in groups.enumerated() {
            var directories = Set<String>()
            for path in group.paths { directories.formUnion(ancestors(of: path)) }
            let entries = directories.compactMap { byPath[$0] } + group.paths.compactMap { byPath[$0] }
            lists[index] = entries.sorted { layerOrder($0.path, $1.path) }
        }
        // Children come after their parents in layer order: walking backwards, a directory knows whether
        // anything kept lies below it.
        var needed = Set<String>()
        var rest: [TarEntry] = []
        for entry in entries.reversed() {
            let path = entry.path.string
            if let path, owner[path] != nil { continue }
            if let path, entry.kind == .directory && emptied.contains(path) && !needed.contains(path) { continue }
            rest.append(entry)
            if let path { needed.insert(splitParent(path).parent) }
        }
        return (rest.reversed(), lists)
    }

    /// `a/b/c` → `a`, `a/b`.
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = splitParent(path).parent
        while !current.isEmpty {
            result.append(current)
            current = splitParent(current).parent
        }
        return result
    }

    /// A RECORD path (relative to the site directory, possibly with `..`, or absolute) as a path in the layer;
    /// nil when it leaves the image.
    static func normalize(_ path: String, under site: String) -> String? {
        var parts = path.hasPrefix("/") ? [] : site.split(separator: "/").map(String.init)
        for part in path.split(separator: "/") {
            switch part {
            case ".", "": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(part))
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// The first CSV field of a RECORD row (quoted when the path holds a comma).
    static func firstField(of row: Substring) -> String {
        guard row.first == "\"" else { return String(row.prefix { $0 != "," }) }
        var field = ""
        var characters = row.dropFirst()
        while let character = characters.popFirst() {
            if character == "\"" {
                guard characters.first == "\"" else { break }
                characters.removeFirst()
            }
            field.append(character)
        }
        return field
    }

    /// `numpy-2.1.3.dist-info` → `numpy 2.1.3`.
    static func label(of distInfo: String) -> String {
        let name = splitParent(distInfo).name.replacingOccurrences(of: ".dist-info", with: "")
        guard let dash = name.firstIndex(of: "-") else { return name }
        return "\(name[..<dash]) \(name[name.index(after: dash)...])"
    }
}

/// Byte code files by the source they were compiled from: `pkg/__pycache__/mod.cpython-311.pyc` under `pkg/mod`.
private struct ByteCodeIndex {
    private var bySource: [String: [String]] = [:]

    init(paths: some Sequence<String>) {
        for path in paths where path.hasSuffix(".pyc") && path.contains("/__pycache__/") {
            let (cache, name) = splitParent(path)
            let directory = splitParent(cache).parent
            let stem = name.prefix { $0 != "." }
            bySource[directory.isEmpty ? String(stem) : "\(directory)/\(stem)", default: []].append(path)
        }
    }

    func compiled(from source: String) -> [String] { bySource[String(source.dropLast(3))] ?? [] }
}

/// Splits `a/b/c` into (`a/b`, `c`).
func splitParent(_ path: String) -> (parent: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    return (String(path[..<slash]), String(path[path.index(after: slash)...]))
}
