import Foundation
import Layers
import Testing

@testable import CogEngine

/// Which project files get weights layers of their own, and in how many layers.
@Suite struct WeightsSelectionTests {
    static func file(_ path: String, mib: Int) -> TarEntry {
        TarEntry(
            path: BytePath("src/\(path)"),
            kind: .regular(.file(path: BytePath("/nonexistent/\(path)"), size: Int64(mib) << 20)))
    }

    static let entries: [TarEntry] = [
        .directory("src"), .directory("src/models"), file("models/big.safetensors", mib: 150),
        file("models/medium.bin", mib: 12), file("models/clip.mp4", mib: 40), file("predict.py", mib: 11),
        file("lora/adapter.pt", mib: 1), file("README.md", mib: 0),
    ]

    static func files(_ group: [TarEntry]) -> [String] {
        group.filter { $0.kind != .directory }.map(\.path.description)
    }

    @Test func largeFilesOnlyByDefault() {
        let selection = WeightsSelection(entries: Self.entries, prefix: "src", declared: [], rule: WeightsSplit())
        #expect(selection.groups.map(Self.files) == [["src/models/big.safetensors"]])
        #expect(selection.groups.first?.map(\.path) == ["src", "src/models", "src/models/big.safetensors"])
        #expect(!selection.code.contains { $0.path == "src/models/big.safetensors" })
        #expect(selection.code.contains { $0.path == "src/models" }, "the code layer keeps every directory")
    }

    @Test func cogYAMLWeightsAndSeparateWeightsAddFiles() {
        let declared = WeightsSelection(entries: Self.entries, prefix: "src", declared: ["lora"], rule: WeightsSplit())
        #expect(declared.groups.map(Self.files) == [["src/lora/adapter.pt"], ["src/models/big.safetensors"]])
        let legacy = WeightsSelection(
            entries: Self.entries, prefix: "src", declared: [], rule: WeightsSplit(separateWeights: true))
        // Cog's rule leaves code and media out, whatever their size.
        #expect(legacy.groups.map(Self.files) == [["src/models/big.safetensors"], ["src/models/medium.bin"]])
    }

    @Test func layerCountIsCapped() {
        let many = (0..<5).map { Self.file("w\($0).bin", mib: 200) }
        let selection = WeightsSelection(
            entries: [.directory("src")] + many, prefix: "src", declared: [], rule: WeightsSplit(maximumLayers: 3))
        #expect(
            selection.groups.map(Self.files) == [
                ["src/w0.bin"], ["src/w1.bin"], ["src/w2.bin", "src/w3.bin", "src/w4.bin"],
            ])
    }

    @Test func localWeightSourcesAreProjectPaths() {
        let weights = [
            WeightSource(
                name: "a", target: "/src/a",
                sources: [
                    .init(uri: "./checkpoints/"), .init(uri: "file:///p/model/lora"), .init(uri: "hf://org/repo"),
                    .init(uri: "/elsewhere/x"), .init(uri: "../up"),
                ])
        ]
        #expect(BuildPlanner.localWeightPaths(weights, projectDirectory: "/p/model") == ["checkpoints", "lora"])
    }
}
