import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

/// The torture suite's round trip: random trees (`TortureTree`) → a layer → our extractor, `bsdtar -x` and
/// `umoci unpack`; every name, type, mode, owner, link target, content, xattr and hard link compared by an
/// independent reader (`testdata/torture/describe-tree.py`). The same tree captured by comparing snapshots gives
/// the same layer bytes.
///
/// A failing tree names its seed; replay it alone with `COG_TORTURE_SEED=<seed> swift test --filter TortureTests`.
/// `COG_TORTURE_TREES` sets how many trees run (default 300).
@Suite struct TortureTests {
    static let seeds: [UInt64] = {
        let environment = ProcessInfo.processInfo.environment
        if let seed = environment["COG_TORTURE_SEED"].flatMap({ UInt64($0) }) { return [seed] }
        let count = environment["COG_TORTURE_TREES"].flatMap { Int($0) } ?? 300
        return (0..<UInt64(count)).map { 0xC06_0000 + $0 }
    }()

    static var describer: String { "\(packageRoot)/testdata/torture/describe-tree.py" }

    @Test(arguments: seeds)
    func randomTreeRoundTrips(seed: UInt64) throws {
        let dir = try TemporaryDirectory("torture")
        defer { _ = try? runCommand(["rm", "-rf", dir.path]) }  // FileManager cannot remove names that are not UTF-8
        let source = "\(dir.path)/source"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let replay = "tree seed \(seed) (replay: COG_TORTURE_SEED=\(seed) swift test --filter TortureTests)"

        // MARK: the tree, scanned and captured by comparing snapshots
        let before = try TreeSnapshot.take(source, excluded: [])
        var tree = TortureTree(seed: seed, root: source, asRoot: isRoot)
        try tree.make()
        let layout = try OCILayout.create(at: "\(dir.path)/layout")
        let options = LayerOptions(threads: 1)
        let layer = try LayerWriter.write(
            entries: try DirectoryScanner(root: source).scan(), to: layout.blobs, options: options)
        let snapshot = try LayerWriter.write(
            entries: try TreeSnapshot.take(source, excluded: []).changes(since: before), to: layout.blobs,
            options: options)
        #expect(snapshot.diffID == layer.diffID, "the snapshot method's layer differs from the scan's: \(replay)")

        // MARK: three readers
        let blob = layout.blobs.path(for: layer.descriptor.digest)
        try LayerExtractor(target: "\(dir.path)/ours").extract(layerPath: blob)
        try FileManager.default.createDirectory(atPath: "\(dir.path)/bsdtar", withIntermediateDirectories: true)
        // In the C locale: in a UTF-8 one libarchive turns names in NFD into NFC (see cog_use_c_locale).
        let bsdtar = try runCommand(
            ["bsdtar", "-x", "-p", "--xattrs", "--numeric-owner", "-f", blob, "-C", "\(dir.path)/bsdtar"],
            environment: ["LC_ALL": "C"])
        // It says so for every name it keeps as bytes, and then exits 1; anything else is a failure.
        let complaints = bsdtar.stderr.split(separator: "\n").filter {
            !$0.contains("can't be converted from UTF-8 to current locale") && !$0.contains("Error exit delayed")
        }
        #expect(complaints.isEmpty && bsdtar.status <= 1, "bsdtar: \(bsdtar.output) \(replay)")
        let configuration = ImageConfiguration(
            created: "1970-01-01T00:00:00Z", config: .init(), rootfs: .init(diffIDs: [layer.diffID]),
            history: [.init(createdBy: "torture")])
        _ = try ImageWriter.write(configuration: configuration, layers: [layer.descriptor], to: layout, name: "t")
        let umoci = try runCommand(
            ["umoci", "unpack"] + (isRoot ? [] : ["--rootless"])
                + ["--image", "\(layout.root):t", "\(dir.path)/bundle"])
        #expect(umoci.status == 0, "umoci: \(umoci.output) \(replay)")

        // MARK: every reader's tree is the source tree
        let roots = [source, "\(dir.path)/ours", "\(dir.path)/bsdtar", "\(dir.path)/bundle/rootfs"]
        let trees = try Self.describe(roots)
        for (root, described) in zip(roots.dropFirst(), trees.dropFirst()) {
            let difference = Self.difference(trees[0], described)
            #expect(difference.isEmpty, "\(root) differs from the source: \(difference) — \(replay)")
        }
        #expect(trees[0].count > 5, "the tree has entries: \(replay)")
    }

    /// The describer's lines for each root (owners compared only as root: otherwise nobody can set them).
    static func describe(_ roots: [String]) throws -> [[String]] {
        let result = try runCommand(["python3", describer] + (isRoot ? [] : ["--no-owners"]) + roots)
        guard result.status == 0 else { throw TestSetupError("describe-tree.py: \(result.stderr)") }
        var trees: [[String]] = []
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("== ") { trees.append([]) } else { trees[trees.count - 1].append(String(line)) }
        }
        return trees
    }

    /// The first lines that differ, with names shown readably.
    static func difference(_ expected: [String], _ actual: [String]) -> String {
        let missing = Set(expected).subtracting(actual)
        let extra = Set(actual).subtracting(expected)
        func readable(_ line: String) -> String {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            var bytes: [UInt8] = []
            var hex = Substring(fields[0])
            while hex.count >= 2, let byte = UInt8(hex.prefix(2), radix: 16) {
                bytes.append(byte)
                hex = hex.dropFirst(2)
            }
            return String(("\"\(BytePath(bytes))\" " + fields.dropFirst().joined(separator: " | ")).prefix(300))
        }
        return
            (missing.sorted().prefix(3).map { "missing " + readable($0) }
            + extra.sorted().prefix(3).map { "unexpected " + readable($0) }).joined(separator: "; ")
    }
}
