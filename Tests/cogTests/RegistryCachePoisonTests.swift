import Foundation
import TestSupport
import Testing

/// A registry cache whose entries lie about their layers (real blobs, a false diffID: what a poisoned cache would
/// serve to plant content under the name of a layer every build trusts): the lie is found before the layer store
/// files anything under that name, the cache gets its one warning, and the steps run here.
@Suite(.serialized) struct RegistryCachePoisonTests {
    /// Machine A exports an honest cache; it is copied to `cache/poisoned` with false diffIDs (its whole-build
    /// entry left out when `withWhole` is false). Returns the poisoned cache's reference.
    static func poisonedCache(in scene: Scene, withWhole: Bool) throws -> String {
        let machineA = try scene.project("a/model", RegistryCacheTests.yaml)
        let first = try scene.cog(
            ["build", "--cache-to", "\(scene.registry.address)/cache/honest", "--progress", "plain"], in: machineA,
            extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-a"])
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")
        let copy = try runCommand(
            [
                "python3", "\(packageRoot)/testdata/registry/poison-cache.py", scene.registry.address, "cache/honest",
                "cache/poisoned",
            ] + (withWhole ? [] : ["--without-whole"]))
        #expect(copy.status == 0 && (Int(copy.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0)
        return "\(scene.registry.address)/cache/poisoned"
    }

    @Test func anEntryWhoseLayerIsNotItsDiffIDIsRefused() throws {
        let scene = try Scene("registry-cache-poison")
        let poisoned = try Self.poisonedCache(in: scene, withWhole: false)

        let machineB = try scene.project("b/model", RegistryCacheTests.yaml)
        let second = try scene.cog(
            ["build", "--cache-from", poisoned, "--progress", "plain"], in: machineB,
            extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-b"])
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        let warnings = warningLines(second.stderr)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("its cache entry claims (a poisoned or broken entry)") == true, "\(warnings)")
        #expect(second.stderr.contains("ran in"), "the steps ran here")
        // Nothing was filed under the false name.
        let fake = "\(scene.dir.path)/cache-b/layers/sha256/\(sha256Hex("not this layer"))"
        #expect(!FileManager.default.fileExists(atPath: fake))
        // A later build on that machine, without the cache, builds what machine A built.
        let again = try scene.cog(
            ["build", "--progress", "plain"], in: machineB, extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-b"])
        #expect(again.status == 0, "\(again.stderr.suffix(3000))")
    }

    /// The whole build's entry lies too: a machine taking the build whole from it trusts the entry's diffIDs for
    /// the image (as BuildKit's lazy imports do; nothing is read), but files nothing under them: the steps it
    /// records are checked when first unpacked, so a later build that needs their files finds the lie and runs them.
    @Test func aLyingWholeBuildFilesNothingUnderItsFalseNames() throws {
        let scene = try Scene("registry-cache-poison-whole")
        let poisoned = try Self.poisonedCache(in: scene, withWhole: true)

        let machineB = try scene.project("b/model", RegistryCacheTests.yaml)
        let environment = ["COG_CACHE_DIR": "\(scene.dir.path)/cache-b"]
        let second = try scene.cog(
            ["build", "--cache-from", poisoned, "--progress", "plain"], in: machineB, extra: environment)
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        #expect(second.stderr.contains("the whole build was in the step cache"), "\(second.stderr.suffix(3000))")
        let fake = "\(scene.dir.path)/cache-b/layers/sha256/\(sha256Hex("not this layer"))"
        #expect(!FileManager.default.fileExists(atPath: fake))

        // A code edit: the steps' files are needed now, the recorded entries are checked, and the steps run.
        try scene.project(
            "b/model", RegistryCacheTests.yaml,
            files: [
                "predict.py":
                    "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'edited'\n"
            ])
        let third = try scene.cog(["build", "--progress", "plain"], in: machineB, extra: environment)
        #expect(third.status == 0, "\(third.stderr.suffix(3000))")
        let warnings = warningLines(third.stderr)
        #expect(!warnings.isEmpty && warnings.allSatisfy { $0.contains("its cache entry claims") }, "\(warnings)")
        #expect(third.stderr.contains("ran in"), "the steps ran here")
        #expect(!FileManager.default.fileExists(atPath: fake))
    }

    func sha256Hex(_ text: String) -> String {
        let result = try? runCommand(["sh", "-c", "printf '%s' '\(text)' | sha256sum | cut -d' ' -f1"])
        return result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}
