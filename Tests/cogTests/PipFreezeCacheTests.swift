import Foundation
import OCI
import TestSupport
import Testing

/// `run.cog.pip_freeze` after a code edit comes from the step cache (pip is not started again); after a change to
/// what is installed it is read again.
@Suite(.serialized) struct PipFreezeCacheTests {
    static func freeze(_ scene: Scene, _ out: String) throws -> String {
        let image = try OCILayout.open("\(scene.dir.path)/\(out)").image(named: "latest")
        return image.configuration.config?.labels?["run.cog.pip_freeze"] ?? ""
    }

    static func keptFreezes(_ scene: Scene) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(scene.dir.path)/cache/steps").filter {
            $0.hasPrefix("pip-freeze-")
        }
    }

    @Test func aCodeEditReusesTheFreezeAndAnInstallReadsItAgain() throws {
        let scene = try Scene("pip-freeze")
        let project = try scene.project("model", ParityTests.model)
        let first = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/one", "--progress", "plain"], in: project)
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")
        let before = try Self.freeze(scene, "one")
        #expect(before.contains("cog=="), "\(before)")
        let kept = try Self.keptFreezes(scene)
        #expect(kept.count == 1, "\(kept) \(first.stderr.suffix(1500))")

        // A code edit: the same freeze, from the cache (no second file).
        try scene.dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'edited'\n"
        )
        let second = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/two", "--progress", "plain"], in: project)
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        #expect(try Self.freeze(scene, "two") == before)
        #expect(try Self.keptFreezes(scene).count == 1)

        // Something installed: read again.
        try scene.dir.write(
            "model/cog.yaml",
            "build:\n  python_version: \"3.11\"\n  python_packages:\n    - \"six==1.16.0\"\npredict: \"predict.py:Predictor\"\n"
        )
        let third = try scene.cog(
            ["build", "--oci-out", "\(scene.dir.path)/three", "--progress", "plain"], in: project)
        #expect(third.status == 0, "\(third.stderr.suffix(3000))")
        #expect(try Self.freeze(scene, "three").contains("six==1.16.0"))
        #expect(try Self.keptFreezes(scene).count == 2)
    }
}
