import Foundation
import OCI
import Testing

@testable import CogEngine

/// How a weight's files are grouped into layers, as Cog's packer groups them (sizes are made up; nothing is read).
@Suite struct WeightPackerTests {
    static let mib: Int64 = 1 << 20

    static func file(_ path: String, _ size: Int64) throws -> WeightPacker.StoredFile {
        WeightPacker.StoredFile(path: path, digest: try Digest.sha256(Data(path.utf8)), size: size)
    }

    static func summary(_ files: [WeightPacker.StoredFile]) -> [String] {
        WeightPacker.plan(files).map { group in
            "\(group.compression.rawValue)/\(group.level): " + group.files.map(\.path).joined(separator: " ")
        }
    }

    @Test func cogsThresholds() {
        #expect(WeightPacker.bundleFileMax == 67_108_864)
        #expect(WeightPacker.bundleSizeMax == 268_435_456)
    }

    @Test func smallFilesAreBundledSortedByPathAndGzippedAtLevelNine() throws {
        let files = try [
            Self.file("z.json", 10), Self.file("a/b.txt", 1), Self.file("Z.bin", 5), Self.file("données/poids.bin", 2),
            Self.file("a.json", 3),
        ]
        let plan = WeightPacker.plan(files)
        #expect(plan.count == 1)
        #expect(plan[0].compression == .gzip)
        #expect(plan[0].level == 9)
        // Byte order: upper case before lower case, `.` (0x2E) before `/` (0x2F).
        #expect(plan[0].files.map(\.path) == ["Z.bin", "a.json", "a/b.txt", "données/poids.bin", "z.json"])
    }

    @Test func bundlesSplitPastTwoHundredFiftySixMiB() throws {
        // 63 MiB each: four fit in 256 MiB (252), the fifth starts a new bundle.
        let files = try (1...6).map { try Self.file("part-\($0).bin", 63 * Self.mib) }
        let plan = WeightPacker.plan(files)
        #expect(plan.map(\.files.count) == [4, 2])
        #expect(plan.allSatisfy { $0.compression == .gzip && $0.level == 9 })
        #expect(plan.flatMap(\.files).map(\.path) == files.map(\.path))
        // Exactly 256 MiB still fits one bundle.
        let exact = try (1...4).map { try Self.file("q-\($0).bin", 64 * Self.mib - 1) } + [Self.file("r.bin", 4)]
        #expect(WeightPacker.plan(exact).map(\.files.count) == [5])
        let over = exact + [try Self.file("s.bin", 1)]
        #expect(WeightPacker.plan(over).map(\.files.count) == [5, 1])
    }

    @Test func largeFilesGetLayersOfTheirOwnAfterTheBundles() throws {
        let files = try [
            Self.file("model.safetensors", 64 * Self.mib), Self.file("big.txt", 100 * Self.mib),
            Self.file("config.json", 1000), Self.file("Weights.GGUF", 70 * Self.mib),
            Self.file("just-under.bin", 64 * Self.mib - 1),
        ]
        #expect(
            Self.summary(files) == [
                "gzip/9: config.json just-under.bin",
                "none/6: Weights.GGUF",
                "gzip/6: big.txt",
                "none/6: model.safetensors",
            ])
    }

    @Test(arguments: [".bin", ".gguf", ".onnx", ".parquet", ".pt", ".pth", ".safetensors"])
    func binaryFormatsAreLeftUncompressed(ext: String) throws {
        let plan = WeightPacker.plan([try Self.file("m\(ext)", 64 * Self.mib)])
        #expect(plan.map(\.compression) == [LayerCompression.none])
    }

    @Test func nothingToPackIsNoLayer() {
        #expect(WeightPacker.plan([]).isEmpty)
    }
}
