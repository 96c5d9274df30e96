import Foundation
import OCI
import TestSupport
import Testing

/// `cog push` uploads while it builds and reports what the registry did with every blob; a second model sharing
/// a package layer sends only what differs.
@Suite(.serialized) struct PushWhileBuildingTests {
    static var cog: String { PipelineTests.cog }

    /// The JSON events `--progress json` printed on standard error.
    static func events(_ stderr: String) -> [[String: String]] {
        stderr.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
    }

    @Test func pushStartsDuringTheBuildAndReportsEveryBlob() throws {
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("push-while-building")
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_PACKAGE_LAYER_MIB": "1",
            "COG_CACHE_DIR": "\(dir.path)/cache",
        ]
        let first = try SharedLayersTests.model(
            "first", in: dir, extra: ["six==1.16.0"], files: ["predict.py": SharedLayersTests.predictor])
        // The second predictor prints at import and computes a default: the static reader declines it, the
        // import-based generator runs, and the print must not end up in the schema.
        let printing = """
            from cog import BasePredictor, Input
            import bigpkg
            print("loading the model code")

            class Predictor(BasePredictor):
                def predict(self, name: str = Input(default=str(bigpkg.SIZE))) -> str:
                    return name
            """
        let second = try SharedLayersTests.model("second", in: dir, extra: [], files: ["predict.py": printing])

        // MARK: the first model: uploads begin while steps still run
        let push = try runCommand(
            [Self.cog, "push", "\(registry.address)/models/first:v1", "--progress", "json"], environment: environment,
            directory: first)
        #expect(push.status == 0, "\(push.output.suffix(3000))")
        let events = Self.events(push.stderr)
        let schemaStep = try #require(events.firstIndex { $0["title"] == "pip freeze and OpenAPI schema" })
        let firstBlob = try #require(events.firstIndex { $0["event"] == "blob-done" })
        #expect(firstBlob < schemaStep, "the base layers are pushed (mounted) before the build ends")
        #expect(events.contains { $0["message"]?.contains("schema read from the source") == true })
        let blobs = events.filter { $0["event"] == "push-blob" }
        let manifest = try runCommand([
            "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(registry.address)/models/first:v1",
        ])
        let pushed = try #require(
            try JSONSerialization.jsonObject(with: Data(manifest.stdout.utf8)) as? [String: Any])
        let layers = (pushed["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        #expect(blobs.count == layers.count + 1, "one report line per layer and the config")
        #expect(Set(blobs.compactMap { $0["digest"] }).isSuperset(of: layers))
        #expect(blobs.first?["outcome"] == "mounted", "the base layer is mounted from the mirror's repository")
        let summary = try #require(events.first { $0["event"] == "push-summary" })
        let firstSent = try #require(summary["sent"].flatMap(Int64.init))
        #expect(summary["uploaded"] == "\(layers.count)", "every layer but the base one, and the config")

        // MARK: the same image again: nothing is sent
        let again = try runCommand(
            [Self.cog, "push", "\(registry.address)/models/first:v1", "--progress", "plain"], environment: environment,
            directory: first)
        #expect(again.status == 0, "\(again.output.suffix(2000))")
        #expect(again.stderr.contains("0 uploaded (0 B sent)"), "\(again.stderr.suffix(1500))")

        // MARK: a second model in another repository: the package layer is mounted, not sent
        let other = try runCommand(
            [Self.cog, "push", "\(registry.address)/models/second:v1", "--progress", "json"], environment: environment,
            directory: second)
        #expect(other.status == 0, "\(other.output.suffix(3000))")
        let secondEvents = Self.events(other.stderr)
        let secondSent = try #require(
            secondEvents.first { $0["event"] == "push-summary" }?["sent"].flatMap(Int64.init))
        let uploaded = secondEvents.filter { $0["event"] == "push-blob" && $0["outcome"] == "uploaded" }.map {
            "\($0["digest"] ?? "") \($0["size"] ?? "") B"
        }
        #expect(
            secondSent * 10 < firstSent,
            "second model sent \(secondSent) bytes, the first \(firstSent); uploaded: \(uploaded); \(other.stderr.suffix(4000))"
        )
        #expect(secondEvents.contains { $0["message"]?.contains("schema from importing the predictor") == true })
        let copy = try runCommand([
            "skopeo", "copy", "--src-tls-verify=false", "docker://\(registry.address)/models/second:v1",
            "oci:\(dir.path)/pulled:latest",
        ])
        #expect(copy.status == 0, "\(copy.output)")
        let config = try runCommand(["skopeo", "inspect", "--config", "oci:\(dir.path)/pulled:latest"]).stdout
        #expect(config.contains("2097152") && !config.contains("loading the model code"), "the default, no print")
    }
}
