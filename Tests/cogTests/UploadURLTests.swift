import Foundation
import TestSupport
import Testing

/// `cog serve --upload-url URL` as in Cog: the runtime PUTs each file output there and answers with its URL instead
/// of inlining the bytes.
@Suite(.serialized) struct UploadURLTests {
    static let predictor = """
        from cog import BasePredictor, Path

        class Predictor(BasePredictor):
            def predict(self) -> Path:
                out = Path("/tmp/result.txt")
                out.write_text("uploaded by the runtime\\n")
                return out

        """

    @Test func fileOutputsArePutToTheUploadURL() throws {
        let scene = try Scene("upload-url")
        let project = try scene.project("model", ParityTests.model, files: ["predict.py": Self.predictor])
        let receiver = try BackgroundProcess(
            ["python3", "\(packageRoot)/testdata/upload/upload-receiver.py", "{DIR}"], label: "upload-receiver")
        // The host's network, so the model reaches the receiver on the host's loopback.
        let (server, port) = try scene.serve(
            project, ["--network", "host", "--upload-url", "http://127.0.0.1:\(receiver.port)/uploads/"])
        defer {
            kill(server, SIGTERM)
            var status: Int32 = 0
            waitpid(server, &status, 0)
        }
        let log = { scene.serveLog }
        #expect(try Scene.waitForHealth(port: port, status: "READY", pid: server), "\(log().suffix(3000))")
        let prediction = try runCommand([
            "curl", "-sf", "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"input": {}}"#,
            "http://127.0.0.1:\(port)/predictions",
        ])
        #expect(prediction.status == 0, "\(prediction.output) \(log().suffix(2000))")
        #expect(prediction.stdout.contains("http://127.0.0.1:\(receiver.port)/"), "\(prediction.stdout)")
        #expect(!prediction.stdout.contains("data:"), "the bytes are not inlined: \(prediction.stdout)")
        let received = try FileManager.default.contentsOfDirectory(atPath: receiver.directory.path)
            .filter { $0.hasPrefix("received-") }
        #expect(received.count == 1, "\(received)")
        let bytes = try String(
            contentsOfFile: "\(receiver.directory.path)/\(received.first ?? "")", encoding: .utf8)
        #expect(bytes == "uploaded by the runtime\n")
    }

    /// As Cog's serve adds `--add-host=host.docker.internal:host-gateway` with `--upload-url`: on the model's own
    /// network the name reaches a receiver on the host's loopback; a model served without it has no such name.
    @Test func hostDockerInternalReachesTheHostWithAnUploadURL() throws {
        let scene = try Scene("upload-url-gateway")
        let project = try scene.project("model", ParityTests.model, files: ["predict.py": Self.predictor])
        let receiver = try BackgroundProcess(
            ["python3", "\(packageRoot)/testdata/upload/upload-receiver.py", "{DIR}"], label: "upload-receiver")
        let (server, port) = try scene.serve(
            project, ["--upload-url", "http://host.docker.internal:\(receiver.port)/uploads/"])
        defer {
            kill(server, SIGTERM)
            var status: Int32 = 0
            waitpid(server, &status, 0)
        }
        let log = { scene.serveLog }
        #expect(try Scene.waitForHealth(port: port, status: "READY", pid: server), "\(log().suffix(3000))")
        let prediction = try runCommand([
            "curl", "-sf", "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"input": {}}"#,
            "http://127.0.0.1:\(port)/predictions",
        ])
        // The receiver answers with a URL of its own (its Location header), which the runtime returns.
        #expect(prediction.stdout.contains(#""status":"succeeded""#), "\(prediction.output)")
        #expect(prediction.stdout.contains("http://127.0.0.1:\(receiver.port)/"), "\(prediction.output)")
        let received = try FileManager.default.contentsOfDirectory(atPath: receiver.directory.path)
            .filter { $0.hasPrefix("received-") }
        #expect(received.count == 1, "\(received) \(log().suffix(2000))")
        // Without --upload-url the name does not exist for the model (and the host's loopback stays out of reach).
        let lookup = try scene.cog(
            ["exec", "python", "-c", "import socket; socket.gethostbyname('host.docker.internal')"], in: project)
        #expect(lookup.status != 0, "\(lookup.output)")
        #expect(lookup.output.contains("gaierror"), "\(lookup.output)")
    }

    @Test func anUploadURLThatIsNoHTTPURLIsRefused() throws {
        let refused = try runCommand([Scene.cog, "serve", "--upload-url", "ftp://example.com/"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--upload-url must be an http:// or https:// URL"), "\(refused.stderr)")
    }
}
