import Foundation
import OCI
import TestSupport
import Testing

/// Cog's managed weights through the binary, against a real registry: `cog weights import` pushes each weight as
/// an artifact and writes `weights.lock`, `pull` restores the local store from the registry, `predict` mounts the
/// weights read-only at their targets, and `push` puts the model bundle (an index of the image and the weights).
@Suite(.serialized) struct ManagedWeightsTests {
    static let yaml = """
        build:
          python_version: "3.11"
        predict: "predict.py:Predictor"
        model: test/weights-model
        weights:
          - name: alpha
            target: /src/weights/alpha
            source:
              uri: file://./weights-alpha
              include: ["*.json", "*.bin"]
              exclude: ["skip*"]
          - name: beta.one
            target: /weights/beta
            source:
              uri: weights-beta

        """

    /// Lists every file under the targets with its size, and whether the targets can be written to.
    static let predictor = """
        import os
        from cog import BasePredictor

        class Predictor(BasePredictor):
            def predict(self) -> str:
                found = []
                for root in ["/src/weights/alpha", "/weights/beta"]:
                    for folder, _, names in os.walk(root):
                        for name in names:
                            path = os.path.join(folder, name)
                            found.append(f"{path}={os.path.getsize(path)}")
                    try:
                        open(os.path.join(root, "new.txt"), "w").close()
                        found.append(f"{root} writable")
                    except OSError:
                        pass
                return " ".join(sorted(found))
        """

    static let weightFiles = [
        "weights-alpha/config.json": #"{"hidden_size": 8}"#, "weights-alpha/sub/données.bin": "0123456789",
        "weights-alpha/skip-me.json": "{}", "weights-alpha/README.md": "not a weight",
        "weights-beta/データ/poids.txt": "beta weights", "weights-beta/.cog/state": "not a weight either",
    ]

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// `skopeo inspect --raw` of a reference in the loopback registry.
    static func rawManifest(_ reference: String) throws -> String {
        let result = try runCommand(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(reference)"])
        #expect(result.status == 0, "\(reference): \(result.stderr)")
        return result.stdout
    }

    static func sha256(_ text: String) throws -> String { try Digest.sha256(Data(text.utf8)).description }

    @Test func importPullPredictAndPushTheBundle() throws {
        var scene = try Scene("managed-weights")
        let host = scene.registry.address
        scene.environment["COG_MODEL_REGISTRY"] = host
        let project = try scene.project(
            "model", Self.yaml, files: Self.weightFiles.merging(["predict.py": Self.predictor]) { $1 })
        let repository = "\(host)/test/weights-model"
        let cache = scene.environment["COG_CACHE_DIR"] ?? ""

        // MARK: import (first a dry run: the plan, the files listed, nothing stored or pushed)
        let dry = try scene.cog(["weights", "import", "--dry-run", "-v"], in: project)
        #expect(dry.status == 0, "\(dry.stderr.suffix(3000))")
        #expect(dry.stderr.contains("    + sub/données.bin (10B)"), "\(dry.stderr)")
        #expect(dry.stderr.contains("    - skip-me.json"), "\(dry.stderr)")
        #expect(!dry.stderr.contains("Pushing"), "\(dry.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(project)/weights.lock"))
        #expect(!FileManager.default.fileExists(atPath: "\(cache)/weights/files"))
        let imported = try scene.cog(["weights", "import"], in: project)
        #expect(imported.status == 0, "\(imported.stderr.suffix(3000))")
        #expect(imported.stderr.contains("Pushing 2 weight(s) to \(repository)..."), "\(imported.stderr)")
        #expect(imported.stderr.contains("Imported 2 weight artifact(s) to \(repository)"), "\(imported.stderr)")
        let lockText = try String(contentsOfFile: "\(project)/weights.lock", encoding: .utf8)
        #expect(!lockText.hasSuffix("\n"))
        let lock = try Self.object(lockText)
        let entries = try #require(lock["weights"] as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String } == ["alpha", "beta.one"])
        let paths = entries.map { (($0["files"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String } }
        #expect(paths == [["config.json", "sub/données.bin"], ["データ/poids.txt"]], "\(lockText)")
        #expect(
            entries.map { ($0["sources"] as? [[String: Any]])?.first?["uri"] as? String } == [
                "file://./weights-alpha", "file://./weights-beta",
            ])

        // Each weight is an artifact in the model's repository, under its own tag, as the lockfile names it.
        for (entry, tagName) in zip(entries, ["alpha", "beta-one"]) {
            let setDigest = try #require(entry["setDigest"] as? String)
            let tag = "cog-weight.\(tagName).\(setDigest.dropFirst("sha256:".count).prefix(12))"
            #expect(imported.stderr.contains("\(repository):\(tag)"), "\(imported.stderr)")
            let raw = try Self.rawManifest("\(repository):\(tag)")
            #expect(try Self.sha256(raw) == entry["digest"] as? String, "the lockfile names the pushed manifest")
            let manifest = try Self.object(raw)
            #expect(manifest["artifactType"] as? String == "application/vnd.cog.weight.v1")
            let annotations = manifest["annotations"] as? [String: String]
            #expect(annotations?["run.cog.weight.set-digest"] == setDigest)
            #expect(annotations?["run.cog.weight.name"] == entry["name"] as? String)
            #expect(annotations?["run.cog.weight.target"] == entry["target"] as? String)
        }
        let status = try scene.cog(["weights", "status"], in: project)
        #expect(status.status == 0, "\(status.output)")
        #expect(status.stdout.split(separator: "\n").filter { $0.contains(" ready ") }.count == 2, "\(status.stdout)")

        // MARK: pull into an emptied store
        let files = "\(cache)/weights/files"
        try FileManager.default.removeItem(atPath: files)
        let pulled = try scene.cog(["weights", "pull"], in: project)
        #expect(pulled.status == 0, "\(pulled.stderr.suffix(3000))")
        #expect(pulled.stderr.contains("Pulling alpha... (2 file(s))"), "\(pulled.stderr)")
        #expect(pulled.stderr.contains("Pulled "), "\(pulled.stderr)")
        for (entry, source) in zip(entries, ["weights-alpha", "weights-beta"]) {
            for file in (entry["files"] as? [[String: Any]]) ?? [] {
                let (path, digest) = (file["path"] as? String ?? "", file["digest"] as? String ?? "")
                let hex = digest.dropFirst("sha256:".count)
                let stored = try String(contentsOfFile: "\(files)/sha256/\(hex.prefix(2))/\(hex)", encoding: .utf8)
                #expect(stored == Self.weightFiles["\(source)/\(path)"], "\(path)")
                #expect(try Self.sha256(stored) == digest)
            }
        }
        let again = try scene.cog(["weights", "pull"], in: project)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("Pulling alpha... cached (2/2 files)"), "\(again.stderr)")
        #expect(again.stderr.contains("All 2 weight(s) already cached."), "\(again.stderr)")
        let unknown = try scene.cog(["weights", "pull", "nope"], in: project)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown weight(s): [nope]"), "\(unknown.stderr)")

        // MARK: predict sees the weights, read-only, at their targets
        // A folder a killed cog left behind (its lock held by no process) is swept by the next model.
        try FileManager.default.createDirectory(
            atPath: "\(cache)/weights/mounts/0123456789abcdef/alpha", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(cache)/weights/mounts/0123456789abcdef.lock", contents: Data())
        let predicted = try scene.cog(["predict", "--progress", "plain"], in: project)
        #expect(predicted.status == 0, "\(predicted.stderr.suffix(3000))")
        #expect(
            predicted.stdout
                == "/src/weights/alpha/config.json=18 /src/weights/alpha/sub/données.bin=10 /weights/beta/データ/poids.txt=12\n",
            "\(predicted.output.suffix(2000))")
        let mounts = (try? FileManager.default.contentsOfDirectory(atPath: "\(cache)/weights/mounts")) ?? []
        #expect(mounts.isEmpty, "left behind: \(mounts)")

        // MARK: push: an index of the image and the two weights
        let pushed = try scene.cog(
            ["push", "--progress", "plain"], in: project, extra: ["COG_MODEL": "\(repository):v1"])
        #expect(pushed.status == 0, "\(pushed.stderr.suffix(3000))")
        let raw = try Self.rawManifest("\(repository):v1")
        #expect(pushed.stdout == "\(repository)@\(try Self.sha256(raw))\n", "\(pushed.output.suffix(2000))")
        let index = try Self.object(raw)
        #expect(index["mediaType"] as? String == "application/vnd.oci.image.index.v1+json")
        #expect(index["schemaVersion"] as? Int == 2)
        let manifests = try #require(index["manifests"] as? [[String: Any]])
        try #require(manifests.count == 3, "\(raw)")
        let platform = manifests[0]["platform"] as? [String: String]
        #expect(platform == ["architecture": "amd64", "os": "linux"], "\(raw)")
        #expect(manifests[0]["artifactType"] == nil)
        for (manifest, entry) in zip(manifests.dropFirst(), entries) {
            #expect(manifest["artifactType"] as? String == "application/vnd.cog.weight.v1")
            #expect(manifest["digest"] as? String == entry["digest"] as? String)
            let annotations = manifest["annotations"] as? [String: String]
            #expect(annotations?["run.cog.weight.name"] == entry["name"] as? String)
            #expect(annotations?["run.cog.weight.set-digest"] == entry["setDigest"] as? String)
        }
        let imageDigest = try #require(manifests[0]["digest"] as? String)
        let manifestText = try Self.expectNoWeightSources(
            in: "\(repository)@\(imageDigest)", registry: host, scene: scene)
        // Cog's /src/.cog/weights.json: each weight's name, target and set digest, from the lockfile.
        let listed = try #require(Self.object(manifestText)["weights"] as? [[String: String]])
        #expect(listed.map { $0["name"] } == entries.map { $0["name"] as? String }, "\(manifestText)")
        #expect(listed.map { $0["setDigest"] } == entries.map { $0["setDigest"] as? String }, "\(manifestText)")
        #expect(listed.map { $0["target"] } == entries.map { $0["target"] as? String }, "\(manifestText)")
    }

    /// Lists every layer of the pushed image: the project is there, its weight source folders are not.
    /// - Returns: the image's `src/.cog/weights.json`.
    static func expectNoWeightSources(in reference: String, registry: String, scene: Scene) throws -> String {
        let image = try object(try rawManifest(reference))
        let layers = try #require(image["layers"] as? [[String: Any]])
        var entries: [String] = []
        var weightsJSON = ""
        for (number, layer) in layers.enumerated() {
            let digest = try #require(layer["digest"] as? String)
            let blob = "\(scene.dir.path)/layer-\(number)"
            let fetched = try runCommand([
                "curl", "-sSf", "-o", blob, "http://\(registry)/v2/test/weights-model/blobs/\(digest)",
            ])
            try #require(fetched.status == 0, "\(fetched.stderr)")
            let listed = try runCommand(["bsdtar", "-tf", blob])
            try #require(listed.status == 0, "\(listed.stderr)")
            entries += listed.stdout.split(separator: "\n").map(String.init)
            if listed.stdout.contains("src/.cog/weights.json") {
                weightsJSON = try runCommand(["bsdtar", "-xOf", blob, "src/.cog/weights.json"]).stdout
            }
            try FileManager.default.removeItem(atPath: blob)
        }
        #expect(entries.contains { $0.hasSuffix("src/predict.py") }, "the project is in the image")
        let weights = entries.filter { $0.contains("weights-alpha") || $0.contains("weights-beta") }
        #expect(weights.isEmpty, "weight sources in the image: \(weights)")
        return weightsJSON
    }
}
