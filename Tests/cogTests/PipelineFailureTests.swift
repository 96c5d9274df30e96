import Foundation
import OCI
import TestSupport
import Testing

/// Builds that stop: interrupted, a failing step, an unreachable registry.
@Suite(.serialized) struct PipelineFailureTests {
    static var cog: String { PipelineTests.cog }

    @Test func ctrlCStopsTheStepAndKeepsFinishedStepsCached() throws {
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("interrupt")
        let marker = "62\(Int.random(in: 1000...9999))"
        let yaml = "build:\n  python_version: \"3.11\"\n  run:\n    - \"echo before > /before\"\n"
        try dir.write("model/cog.yaml", yaml + "    - \"sleep \(marker)\"\npredict: \"predict.py:Predictor\"\n")
        try dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n"
        )
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
        ]
        let log = "\(dir.path)/build.log"
        let pid = try spawnDetached(
            ["env"] + environment.map { "\($0.key)=\($0.value)" }
                + [Self.cog, "build", "-f", "\(dir.path)/model/cog.yaml", "--progress", "plain"], log: log)
        var sleeping = false
        for _ in 0..<1200 where !sleeping {
            usleep(100_000)
            sleeping = !(try runCommand(["pgrep", "-f", "^sleep \(marker)$"]).stdout.isEmpty)
        }
        #expect(sleeping, "\((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
        kill(pid, SIGINT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 130, "exit status \(status): \(output.suffix(1500))")
        #expect(output.contains("interrupted: stopping the running step"))
        #expect(output.contains("error: interrupted; the steps that finished are cached"))
        #expect(try runCommand(["pgrep", "-f", "^sleep \(marker)$"]).stdout.isEmpty, "the step was stopped")
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/scratch")) ?? []
        #expect(scratch.isEmpty, "\(scratch)")
        // The step that finished before Ctrl-C is taken from the cache.
        try dir.write("model/cog.yaml", yaml + "predict: \"predict.py:Predictor\"\n")
        let again = try runCommand(
            [Self.cog, "build", "--progress", "plain"], environment: environment, directory: "\(dir.path)/model")
        #expect(again.status == 0, "\(again.stderr.suffix(2000))")
        #expect(again.stderr.contains("RUN echo before > /before  (cached)"), "\(again.stderr.suffix(2000))")
    }

    @Test func aFailingStepFailsTheBuildClearlyAndWritesNoOutput() throws {
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("pipeline")
        try dir.write(
            "bad/cog.yaml",
            """
            build:
              python_version: "3.11"
              system_packages:
                - "no-such-package-cog-test"
            predict: "predict.py:Predictor"
            """)
        try dir.write(
            "bad/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n"
        )
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
        ]
        let result = try runCommand(
            [Self.cog, "build", "--oci-out", "\(dir.path)/out", "--progress", "plain"],
            environment: environment, directory: "\(dir.path)/bad")
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "error: step \"apt-get install no-such-package-cog-test\" failed with exit code 100"),
            "\(result.stderr.suffix(2000))")
        #expect(result.stderr.contains("Unable to locate package no-such-package-cog-test"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/out"))
        // The step before the failing one was cached (its layer finished writing before cog gave up), and no
        // scratch dir is left behind.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/steps")) ?? []).count == 1)
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/scratch")) ?? []
        #expect(scratch.isEmpty, "\(scratch)")
        try dir.write("bad/cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
        let fixed = try runCommand(
            [Self.cog, "build", "--progress", "plain"], environment: environment, directory: "\(dir.path)/bad")
        #expect(fixed.status == 0, "\(fixed.stderr.suffix(2000))")
        #expect(fixed.stderr.contains("RUN install tini  (cached)"), "\(fixed.stderr.prefix(2000))")
    }

    @Test func unreachableRegistrySaysSo() throws {
        let dir = try TemporaryDirectory("pipeline")
        try dir.write("m/cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
        try dir.write("m/predict.py", "")
        let result = try runCommand(
            [Self.cog, "build", "--progress", "plain", "--base-image", "127.0.0.1:9/library/python:3.11-slim"],
            environment: ["COG_CACHE_DIR": "\(dir.path)/cache", "COG_REGISTRY_RETRIES": "2"],
            directory: "\(dir.path)/m")
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("error: cannot connect to 127.0.0.1:9 (")
                && result.stderr.contains("check the port, and that the registry is running"),
            "\(result.stderr)")
    }
}
