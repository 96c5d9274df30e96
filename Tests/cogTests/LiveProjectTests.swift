import Foundation
import TestSupport
import Testing

/// `cog predict`, `exec` and `train` without an image, as Cog runs them: everything built but the project, which
/// is mounted read-write at /src, so an edit is served at once and writes nothing to the store.
@Suite(.serialized) struct LiveProjectTests {
    static func predictor(_ word: String, extra: String = "") -> String {
        """
        from cog import BasePredictor, Input

        class Predictor(BasePredictor):
            def predict(self, s: str\(extra)) -> str:
                with open("/src/written.txt", "w") as f:
                    f.write("\(word)")
                return "\(word) " + s\(extra.isEmpty ? "" : " * n")
        """
    }

    /// Every file in the content store and the layer store (blobs, unpacked layers).
    static func storedFiles(_ cache: String) -> Set<String> {
        var found = Set<String>()
        for directory in ["blobs", "layers", "layers-single"] {
            let root = "\(cache)/\(directory)"
            for case let path as String in FileManager.default.enumerator(atPath: root)?.allObjects ?? [] {
                found.insert("\(directory)/\(path)")
            }
        }
        return found
    }

    @Test func anEditIsServedWithoutANewLayer() throws {
        let scene = try Scene("live")
        let project = try scene.project("model", ParityTests.model, files: ["predict.py": Self.predictor("one")])
        let first = try scene.cog(["predict", "-i", "s=x", "--progress", "plain"], in: project)
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")
        #expect(first.stdout == "one x\n", "\(first.output.suffix(2000))")
        #expect(!first.stderr.contains("COPY . /src"), "no project copy: \(first.stderr)")
        #expect(first.stderr.contains("OpenAPI schema of the mounted project"), "\(first.stderr)")
        // Read-write, as Cog's volume; the schema where the runtime reads it through the mount, as Cog writes it.
        #expect((try? String(contentsOfFile: "\(project)/written.txt", encoding: .utf8)) == "one")
        let schema = try String(contentsOfFile: "\(project)/.cog/openapi_schema.json", encoding: .utf8)
        #expect(schema.contains("\"s\""))
        let before = Self.storedFiles(scene.environment["COG_CACHE_DIR"] ?? "")

        // An edit, with a new input: served at once, its schema from the edited code, nothing new in the stores.
        try scene.dir.write("model/predict.py", Self.predictor("two", extra: ", n: int = 1"))
        let second = try scene.cog(["predict", "-i", "s=x", "-i", "n=3", "--progress", "plain"], in: project)
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        #expect(second.stdout == "two xxx\n", "\(second.output.suffix(2000))")
        #expect((try? String(contentsOfFile: "\(project)/written.txt", encoding: .utf8)) == "two")
        let after = Self.storedFiles(scene.environment["COG_CACHE_DIR"] ?? "")
        #expect(after.subtracting(before).isEmpty, "written for an edit: \(after.subtracting(before).sorted())")

        // Inputs are still checked before the model starts, against the mounted code's schema.
        let unknown = try scene.cog(["predict", "-i", "s=x", "-i", "wrong=1"], in: project)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains(#"unknown input "wrong"; valid inputs are: n, s"#), "\(unknown.stderr)")
        #expect(!unknown.stderr.contains("starting the model"))

        // cog exec sees the project as it is, and may write to it.
        let exec = try scene.cog(
            ["exec", "sh", "-c", "grep -c two predict.py && echo hi > from-exec.txt"], in: project)
        #expect(exec.status == 0, "\(exec.stderr.suffix(2000))")
        #expect(exec.stdout == "2\n", "\(exec.output)")
        #expect((try? String(contentsOfFile: "\(project)/from-exec.txt", encoding: .utf8)) == "hi\n")

        // cog build still copies the project into the image, unchanged.
        let built = try scene.cog(["build", "-t", "live-built", "--progress", "plain"], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        #expect(built.stderr.contains("COPY . /src"), "\(built.stderr)")
        try FileManager.default.removeItem(atPath: "\(project)/predict.py")
        let image = try scene.cog(["predict", "live-built", "-i", "s=y", "-i", "n=2"], in: project)
        #expect(image.stdout == "two yy\n", "\(image.output.suffix(2000))")
    }

    @Test func trainWithoutAnImageRunsTheMountedTrainer() throws {
        let scene = try Scene("live-train")
        let project = try scene.project(
            "model", ParityTests.model + "train: \"train.py:train\"\n",
            files: ["train.py": "def train(prefix: str) -> str:\n    return prefix * 2\n"])
        let output = "\(scene.dir.path)/weights.txt"
        let first = try scene.cog(["train", "-i", "prefix=ab", "-o", output], in: project)
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")
        #expect((try? String(contentsOfFile: output, encoding: .utf8)) == "abab")
        try scene.dir.write("model/train.py", "def train(prefix: str) -> str:\n    return prefix * 3\n")
        let second = try scene.cog(["train", "-i", "prefix=ab", "-o", output], in: project)
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        #expect((try? String(contentsOfFile: output, encoding: .utf8)) == "ababab")
    }

    /// `cog serve` without an image builds first; SIGTERM then still stops it (the build's own signal handling,
    /// over by then, once left the server deaf to it).
    @Test func serveWithoutAnImageStopsOnSIGTERM() throws {
        let scene = try Scene("live-serve")
        let project = try scene.project("model", ParityTests.model, files: ["predict.py": Self.predictor("one")])
        let (server, port) = try scene.serve(project)
        defer { kill(server, SIGKILL) }
        let log = { scene.serveLog }
        #expect(try Scene.waitForHealth(port: port, status: "READY", pid: server), "\(log().suffix(3000))")
        kill(server, SIGTERM)
        var status: Int32 = 0
        var ended = false
        for _ in 0..<120 where !ended {
            ended = waitpid(server, &status, WNOHANG) == server
            if !ended { usleep(250_000) }
        }
        #expect(ended, "cog serve still runs 30 s after SIGTERM: \(log().suffix(2000))")
    }

    /// As Cog's serve: a `setup()` that fails leaves the server up, its health check saying `SETUP_FAILED`.
    @Test func serveKeepsServingWhenSetupFails() throws {
        let scene = try Scene("serve-setup-failed")
        let predictor = """
            from cog import BasePredictor

            class Predictor(BasePredictor):
                def setup(self) -> None:
                    raise RuntimeError("no weights here")

                def predict(self, s: str) -> str:
                    return s
            """
        let project = try scene.project("model", ParityTests.model, files: ["predict.py": predictor])
        let (server, port) = try scene.serve(project)
        defer { kill(server, SIGKILL) }
        var status: Int32 = 0
        let log = { scene.serveLog }
        #expect(try Scene.waitForHealth(port: port, status: "SETUP_FAILED", pid: server), "\(log().suffix(3000))")
        usleep(1_000_000)
        #expect(waitpid(server, &status, WNOHANG) == 0, "cog serve exited: \(log().suffix(2000))")
        let health = try runCommand(["curl", "-sf", "http://127.0.0.1:\(port)/health-check"])
        #expect(health.stdout.contains("SETUP_FAILED"), "\(health.output)")
        #expect(log().contains("the model's setup() failed (SETUP_FAILED)"), "\(log().suffix(2000))")
        kill(server, SIGTERM)
        var ended = false
        for _ in 0..<120 where !ended {
            ended = waitpid(server, &status, WNOHANG) == server
            if !ended { usleep(250_000) }
        }
        #expect(ended, "cog serve still runs 30 s after SIGTERM: \(log().suffix(2000))")
    }
}
