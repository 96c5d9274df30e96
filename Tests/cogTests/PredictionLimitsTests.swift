import Foundation
import TestSupport
import Testing

/// Predictions and step output of any size with flat memory, a setup() that fails or never ends, and errors that
/// say what is wrong, through the `cog` binary.
@Suite(.serialized) struct PredictionLimitsTests {
    static let predictor = """
        import sys
        from cog import BasePredictor, Path

        class Predictor(BasePredictor):
            def predict(self, kind: str = "file", n: int = 1) -> Path:
                with open("/tmp/out.bin", "wb") as f:
                    f.write(bytes(range(256)) * (13 << 12))
                return Path("/tmp/out.bin")
        """
    static let texter = """
        from cog import BasePredictor

        class Predictor(BasePredictor):
            def predict(self, lines: int = 200000) -> str:
                for i in range(lines):
                    print(f"log line {i} " + "x" * 60)
                return "\\n".join(f"line {i} \\"quoted\\" é " + "y" * 80 for i in range(lines))
        """

    @Test func outputsOfAnySizeStreamToDiskWithFlatMemory() throws {
        let scene = try Scene("big-outputs")
        let project = try scene.project(
            "model", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n",
            files: ["predict.py": Self.predictor, "text.py": Self.texter])
        try scene.dir.write("model/text.yaml", "build:\n  python_version: \"3.11\"\npredict: \"text.py:Predictor\"\n")

        // MARK: a 13 MiB file
        let file = try scene.cogMeasuringPeak(["predict", "-o", "\(scene.dir.path)/out.bin"], in: project)
        #expect(file.status == 0, "\(file.log.suffix(2000))")
        let written = try Data(contentsOf: URL(fileURLWithPath: "\(scene.dir.path)/out.bin"))
        #expect(written == Data(Array(repeating: Array(0...255) as [UInt8], count: 13 << 12).joined()))
        // MARK: 200,000 lines printed (logs) and returned (a 20 MB string), whole, in --json mode and as text
        let json = try scene.cogMeasuringPeak(
            ["predict", "-f", "text.yaml", "--json", "{}", "-o", "\(scene.dir.path)/prediction.json"], in: project)
        #expect(json.status == 0, "\(json.log.suffix(2000))")
        let prediction =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(scene.dir.path)/prediction.json"))) as? [String: Any]
        #expect(prediction?["status"] as? String == "succeeded")
        #expect((prediction?["output"] as? String)?.utf8.count ?? 0 > 16 << 20)
        #expect((prediction?["logs"] as? String)?.contains("log line 199999 ") == true)
        let text = try scene.cog(["predict", "-f", "text.yaml"], in: project)
        #expect(text.status == 0, "\(text.stderr.suffix(2000))")
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 200_001)
        #expect(lines[199_999] == "line 199999 \"quoted\" é " + String(repeating: "y", count: 80))
        for peak in [file.peakKiB, json.peakKiB] { #expect(peak > 0 && peak < 150 << 10, "cog's peak: \(peak) KiB") }

        // MARK: errors that tell the truth
        let unknown = try scene.cog(["predict", "-i", "nosuch=1"], in: project)
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr.contains(#"error: unknown input "nosuch"; valid inputs are: kind, n"#),
            "\(unknown.stderr.suffix(500))")
        let refused = try scene.cog(
            ["predict", "--json", #"{"n": "many"}"#, "-o", "\(scene.dir.path)/refused.json"], in: project)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(#"error: invalid input "n": expected integer, got string"#),
            "\(refused.stderr.suffix(500))")
        #expect(!refused.stderr.contains("[\""), "no Swift dictionary syntax: \(refused.stderr.suffix(500))")
        let timestamp = try scene.cog(["build", "--timestamp", "99999999999999999"], in: project)
        #expect(timestamp.stderr.contains("is after 9999-12-31T23:59:59Z (253402300799)"), "\(timestamp.stderr)")
        try scene.dir.write("a-file", "not a directory\n")
        let cacheFile = try scene.cog(["build"], in: project, extra: ["COG_CACHE_DIR": "\(scene.dir.path)/a-file"])
        #expect(
            cacheFile.stderr.contains(
                "error: the cache directory \(scene.dir.path)/a-file (from COG_CACHE_DIR) cannot be used: \(scene.dir.path)/a-file is a file, not a directory"
            ), "\(cacheFile.stderr)")
    }

    @Test func loudStepsAndFailingSetupsKeepMemoryAndTimeBounded() throws {
        let scene = try Scene("loud")
        let marker = "7\(Int.random(in: 100_000...999_999))"
        let project = try scene.project(
            "model",
            """
            build:
              python_version: "3.11"
              run:
                - head -c 100000000 /dev/zero | tr "\\\\0" x
                - yes "a line of output that repeats" | head -c 100000000
            predict: "fail.py:Predictor"

            """,
            files: [
                "fail.py": """
                from cog import BasePredictor
                class Predictor(BasePredictor):
                    def setup(self):
                        print("loading weights")
                        raise RuntimeError("weights.bin is missing")
                    def predict(self) -> str:
                        return "x"
                """,
                "hang.py": """
                import subprocess, time
                from cog import BasePredictor
                class Predictor(BasePredictor):
                    def setup(self):
                        subprocess.Popen(["sleep", "\(marker)"])
                        time.sleep(100000)
                    def predict(self) -> str:
                        return "x"
                """,
            ])
        let loud = try scene.cogMeasuringPeak(["build", "--progress", "plain"], in: project)
        #expect(loud.status == 0, "\(loud.log.suffix(1000))")
        #expect(
            loud.peakKiB > 0 && loud.peakKiB < 150 << 10, "cog's peak while steps printed 200 MB: \(loud.peakKiB) KiB")

        let failed = try scene.cog(["predict"], in: project)
        #expect(failed.status == 1)
        #expect(
            failed.stderr.contains("error: the model's setup() failed (SETUP_FAILED): "),
            "\(failed.stderr.suffix(2000))")
        #expect(failed.stderr.contains("RuntimeError: weights.bin is missing"))

        try scene.dir.write("model/cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"hang.py:Predictor\"\n")
        let hung = try scene.cog(["predict", "--setup-timeout", "5"], in: project)
        #expect(hung.status == 1)
        #expect(
            hung.stderr.contains(
                "error: the model's setup() did not finish within 5 s (--setup-timeout); the model was stopped"),
            "\(hung.stderr.suffix(2000))")
        #expect(
            try runCommand(["pgrep", "-f", "^sleep \(marker)$"]).stdout.isEmpty,
            "everything the model started was stopped")
    }
}
