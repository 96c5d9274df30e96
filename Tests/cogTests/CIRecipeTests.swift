import Foundation
import TestSupport
import Testing

/// `examples/ci/build-and-push.sh`, the commands both CI recipes run, executed here as a CI job would run them:
/// inside the stand-in for an unprivileged container, logging in to a registry that wants a password, pushing
/// with the registry cache. A second job with an empty cache dir (another runner) pushes the same digest: its
/// step that writes the time was not run again.
@Suite(.serialized) struct CIRecipeTests {
    @Test func twoRunnersPushTheSameImageThroughTheRecipe() throws {
        guard isRoot, commandExists("gcc"), commandExists("skopeo") else { return }
        let base = try PipelineTests.registryWithBase()
        let target = try TestRegistry(["--htpasswd", "ci:ci-password"])
        let dir = try TemporaryDirectory("ci-recipe")
        let container = try CIContainerTests.container(in: dir)
        try FileManager.default.createDirectory(atPath: "\(dir.path)/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(dir.path)/bin/cog", withDestinationPath: PipelineTests.cog)
        try dir.write(
            "model/cog.yaml",
            "build:\n  python_version: \"3.11\"\n  run:\n    - date +%s%N > /opt/built-at\npredict: \"predict.py:Predictor\"\n"
        )
        try dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n"
        )
        let image = "\(target.address)/ci/model"
        func job(_ runner: String) throws -> (CommandResult, String) {
            let result = try runCommand(
                [container, "sh", "\(packageRoot)/examples/ci/build-and-push.sh"],
                environment: [
                    "PATH": "\(dir.path)/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "\(dir.path)/home-\(runner)",
                    "IMAGE": image, "CACHE": "\(target.address)/ci/cache", "REGISTRY_USER": "ci",
                    "REGISTRY_TOKEN": "ci-password", "COG_CACHE_DIR": "\(dir.path)/cache-\(runner)",
                    "COG_REGISTRY_MIRRORS": "docker.io=\(base.address)",
                ], directory: "\(dir.path)/model")
            let digest = try runCommand([
                "skopeo", "inspect", "--tls-verify=false", "--creds", "ci:ci-password", "--format", "{{.Digest}}",
                "docker://\(image)",
            ])
            return (result, digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let (first, firstDigest) = try job("a")
        #expect(first.status == 0, "\(first.output.suffix(3000))")
        #expect(first.stderr.contains("logged in to \(target.address)"))
        #expect(first.stderr.contains("confined: chroot only"))
        let (second, secondDigest) = try job("b")
        #expect(second.status == 0, "\(second.output.suffix(3000))")
        #expect(firstDigest.hasPrefix("sha256:"))
        #expect(secondDigest == firstDigest, "the second runner ran the step again")
    }
}
