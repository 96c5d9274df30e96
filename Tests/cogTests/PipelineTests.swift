import Foundation
import OCI
import TestSupport
import Testing

/// The whole daemonless pipeline through the `cog` binary: build with apt, pip, a secret and .dockerignore;
/// validate with independent tools; push; pull back with skopeo; predict over the real runtime; serve the
/// schema; rebuild after a code change reusing every other layer.
@Suite(.serialized) struct PipelineTests {
    static var cog: String { "\(packageRoot)/.build/debug/cog" }

    /// A loopback registry holding the debootstrapped base as library/python:3.11-slim.
    static func registryWithBase() throws -> TestRegistry {
        let registry = try TestRegistry()
        let push = try runCommand([
            "\(packageRoot)/scripts/make-base-image.sh", "push", try TestBaseImage.ensure(), registry.address,
        ])
        guard push.status == 0 else { throw TestSetupError("pushing the base image failed: \(push.output)") }
        return registry
    }

    static func project(in dir: TemporaryDirectory) throws -> String {
        try dir.write(
            "model/cog.yaml",
            """
            build:
              python_version: "3.11"
              system_packages:
                - "cowsay"
              python_packages:
                - "six==1.16.0"
                - "wheels/cogtestwheel-1.0-py3-none-any.whl"
              run:
                - command: test -s /run/secrets/token && echo "secret seen, $(wc -c < /run/secrets/token) bytes"
                  mounts:
                    - type: secret
                      id: token
                      target: /run/secrets/token
                - mkdir -p /opt/データ && touch /opt/données.csv /opt/データ/файл.txt
            predict: "predict.py:Predictor"
            """)
        try makeWheel(at: "\(dir.path)/model/wheels/cogtestwheel-1.0-py3-none-any.whl")
        try dir.write("model/helper.py", "PREFIX = 'hello'\n")
        try dir.write(
            "model/predict.py",
            """
            import os
            from cog import BasePredictor, Input
            import cogtestwheel, helper, six

            class Predictor(BasePredictor):
                def predict(self, name: str = Input(description="Who to greet", default="world"),
                            times: int = Input(description="Repeats", ge=1, le=3, default=1)) -> str:
                    return " ".join([f"{helper.PREFIX}, {name}"] * times) + os.environ.get("GREETING_END", "")
            """)
        try dir.write("model/.dockerignore", "notes.txt\ndata/\n")
        try dir.write("model/notes.txt", "private notes\n")
        try dir.write("model/data/big.bin", "not for the image\n")
        for name in nonASCIINames { try dir.write("model/\(name)", name + "\n") }
        return "\(dir.path)/model"
    }

    /// Project files named in several scripts (a file named données.csv once crashed every build).
    static let nonASCIINames = ["données.csv", "日本語/ファイル.txt", "кириллица.txt", "Ελληνικά/αρχείο.md", "emoji-🙂.json"]

    /// A minimal pure-Python wheel (module `cogtestwheel`), as a local package the requirements name by path.
    static func makeWheel(at path: String) throws {
        let script = """
            import base64, hashlib, os, sys, zipfile
            files = {"cogtestwheel/__init__.py": b"VERSION = '1.0'\\n",
                     "cogtestwheel-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: cogtestwheel\\nVersion: 1.0\\n",
                     "cogtestwheel-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: cog-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            record = "".join("%s,sha256=%s,%d\\n" % (n, base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode(), len(d)) for n, d in files.items())
            files["cogtestwheel-1.0.dist-info/RECORD"] = (record + "cogtestwheel-1.0.dist-info/RECORD,,\\n").encode()
            os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                for n, d in files.items(): z.writestr(n, d)
            """
        let result = try runCommand(["python3", "-c", script, path])
        guard result.status == 0 else { throw TestSetupError("making the wheel failed: \(result.output)") }
    }

    @Test func buildPushPredictServeRebuild() async throws {
        let registry = try Self.registryWithBase()
        let dir = try TemporaryDirectory("pipeline")
        let project = try Self.project(in: dir)
        let secret = "cog-secret-\(UUID().uuidString)"
        try dir.write("token", secret)
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
        ]
        let secretFlag = "id=token,src=\(dir.path)/token"

        // MARK: build
        let build = try runCommand(
            [
                Self.cog, "build", "--oci-out", "\(dir.path)/out", "-t", "pipeline-test", "--secret", secretFlag,
                "--progress", "plain",
            ],
            environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(4000))")
        #expect(build.stderr.contains("secret seen, \(secret.utf8.count) bytes"))

        // MARK: independent validators
        let validate = try runCommand([
            "oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(dir.path)/out",
        ])
        #expect(validate.status == 0, "\(validate.output)")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        let rootfs = "\(dir.path)/bundle/rootfs"
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/src/predict.py"))
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/src/.cog/openapi_schema.json"))
        var tmp = stat()
        #expect(
            stat("\(rootfs)/tmp", &tmp) == 0 && tmp.st_mode & 0o7777 == 0o1777,
            "COPY /tmp/requirements.txt keeps /tmp's mode")
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/usr/games/cowsay"))
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/usr/bin/tini"), "tini from Debian's package")
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(rootfs)/usr/sbin/tini")) == "/usr/bin/tini")
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/src/notes.txt"), ".dockerignore is honoured")
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/src/data"))
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/run/secrets/token"))
        for name in Self.nonASCIINames {
            #expect(
                (try? String(contentsOfFile: "\(rootfs)/src/\(name)", encoding: .utf8)) == name + "\n",
                "COPY keeps \(name)")
        }
        for name in ["opt/données.csv", "opt/データ/файл.txt"] {
            #expect(FileManager.default.fileExists(atPath: "\(rootfs)/\(name)"), "a RUN step's \(name) is in its layer")
        }
        let inspect = try runCommand(["skopeo", "inspect", "--config", "oci:\(dir.path)/out:latest"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("run.cog.openapi_schema"))
        #expect(inspect.stdout.contains("six==1.16.0"), "run.cog.pip_freeze is read from the installed packages")
        #expect(inspect.stdout.contains("cogtestwheel"), "the local wheel named in the requirements is installed")
        #expect(inspect.stdout.contains("\"/sbin/tini\""))
        #expect(inspect.stdout.contains("COG_PREDICT_TYPE_STUB=predict.py:Predictor"))

        // MARK: the secret is nowhere
        let search = try runCommand([
            "sh", "-c",
            "for f in $(find \(dir.path)/cache/blobs \(dir.path)/cache/steps \(dir.path)/out -type f); do zcat -f \"$f\" 2>/dev/null | grep -l -F '\(secret)' >/dev/null && echo \"$f\"; done; grep -rlF '\(secret)' \(dir.path)/cache/layers \(dir.path)/cache/steps || true",
        ])
        #expect(search.stdout.isEmpty, "secret found in: \(search.stdout)")

        // MARK: push, then skopeo pulls with every digest verified
        let target = "\(registry.address)/pipeline/model:v1"
        let pushed = try runCommand(
            [Self.cog, "push", target, "--secret", secretFlag, "--progress", "plain"], environment: environment,
            directory: project)
        #expect(pushed.status == 0, "\(pushed.output.suffix(3000))")
        let copy = try runCommand([
            "skopeo", "copy", "--src-tls-verify=false", "docker://\(target)", "dir:\(dir.path)/pulled",
        ])
        #expect(copy.status == 0, "\(copy.output)")

        // MARK: predict over the real runtime, with the schema enforced
        let predict = try runCommand(
            [Self.cog, "predict", target, "-i", "name=tester", "-i", "times=2"], environment: environment,
            directory: project)
        #expect(predict.status == 0, "\(predict.output)")
        #expect(predict.stdout == "hello, tester hello, tester\n")
        let refused = try runCommand(
            [Self.cog, "predict", target, "-i", "times=9"], environment: environment, directory: project)
        #expect(refused.status == 1)
        // Checked against the image's schema before the model starts, in Cog's words.
        #expect(refused.stderr.contains(#"invalid input "times": number must be at most 3"#), "\(refused.stderr)")
        // --json in (here from standard input), the whole prediction out as JSON; -e sets the model's environment.
        let jsonMode = try runCommand(
            [Self.cog, "predict", target, "--json", "@-", "-o", "\(dir.path)/prediction.json", "-e", "GREETING_END=!"],
            environment: environment, input: #"{"name": "json", "times": 2}"#, directory: project)
        #expect(jsonMode.status == 0, "\(jsonMode.output)")
        let prediction =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/prediction.json"))) as? [String: Any]
        #expect(prediction?["status"] as? String == "succeeded")
        #expect(prediction?["output"] as? String == "hello, json hello, json!")
        let badJSON = try runCommand(
            [Self.cog, "predict", target, "--json", "[1, 2]"], environment: environment, directory: project)
        #expect(badJSON.status == 1)
        #expect(
            badJSON.stderr.contains("--json: the --json argument must be a JSON object of inputs"), "\(badJSON.stderr)")

        // MARK: serve: /openapi.json describes the inputs
        let port = 20000 + Int.random(in: 0..<20000)
        let serve = try spawnDetached(
            [
                "env", "COG_CACHE_DIR=\(dir.path)/cache", Self.cog, "serve", target, "-p", "\(port)", "--progress",
                "plain",
            ], log: "\(dir.path)/serve.log")
        defer {
            kill(serve, SIGTERM)
            var status: Int32 = 0
            waitpid(serve, &status, 0)
        }
        var schema = ""
        for _ in 0..<120 {
            schema =
                (try? runCommand([
                    "python3", "-c",
                    "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:\(port)/openapi.json').read().decode())",
                ]))?.stdout ?? ""
            if schema.contains("Who to greet") { break }
            usleep(250_000)
        }
        #expect(
            schema.contains("\"times\""),
            "\((try? String(contentsOfFile: "\(dir.path)/serve.log", encoding: .utf8)) ?? "")")
        #expect(schema.contains("\"maximum\":3"))
        // Published on 127.0.0.1 only (slirp4netns forwards it): not on the machine's other addresses.
        let external = try runCommand([
            "sh", "-c", "ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1",
        ]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if !external.isEmpty {
            let reach = try runCommand([
                "python3", "-c",
                "import socket; socket.create_connection(('\(external)', \(port)), timeout=3); print('reached')",
            ])
            #expect(reach.status != 0 && !reach.stdout.contains("reached"), "cog serve answered on \(external):\(port)")
        }

        // MARK: a code change rebuilds only the code (and schema) layers
        let before = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        try dir.write("model/helper.py", "PREFIX = 'goodbye'\n")
        let rebuild = try runCommand(
            [
                Self.cog, "build", "--oci-out", "\(dir.path)/out", "-t", "pipeline-test", "--secret", secretFlag,
                "--progress", "plain",
            ],
            environment: environment, directory: project)
        #expect(rebuild.status == 0, "\(rebuild.output.suffix(3000))")
        #expect(!rebuild.stderr.contains("   | "), "no step ran again: \(rebuild.stderr)")
        let after = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        let count = before.manifest.layers.count
        #expect(after.manifest.layers.count == count)
        #expect(Array(after.manifest.layers.prefix(count - 2)) == Array(before.manifest.layers.prefix(count - 2)))
        #expect(after.manifest.layers[count - 2] != before.manifest.layers[count - 2], "the code layer changed")
        let again = try runCommand(
            [Self.cog, "predict", "pipeline-test", "-i", "name=tester"], environment: environment, directory: project)
        #expect(again.stdout == "goodbye, tester\n", "\(again.output)")

        // MARK: Cog's --openapi-schema and --timestamp; layers cached under another timestamp are not reused
        let given = #"{"openapi":"3.0.2","info":{"title":"Given","version":"0.1.0"},"paths":{}}"#
        try dir.write("given-schema.json", given + "\n")
        let stamped = try runCommand(
            [
                Self.cog, "build", "--oci-out", "\(dir.path)/stamped", "--secret", secretFlag, "--progress", "plain",
                "--openapi-schema", "\(dir.path)/given-schema.json", "--timestamp", "1700000000",
            ],
            environment: environment, directory: project)
        #expect(stamped.status == 0, "\(stamped.output.suffix(3000))")
        #expect(stamped.stderr.contains("secret seen"), "the steps ran again under the new timestamp")
        let image = try OCILayout.open("\(dir.path)/stamped").image(named: "latest")
        #expect(image.configuration.config?.labels?["run.cog.openapi_schema"] == given)
        #expect(image.configuration.created == "2023-11-14T22:13:20Z")
        let code = image.manifest.layers[image.manifest.layers.count - 2].digest.encoded
        let newest = try runCommand([
            "python3", "-c", "import tarfile,sys; print(max(m.mtime for m in tarfile.open(sys.argv[1])))",
            "\(dir.path)/stamped/blobs/sha256/\(code)",
        ])
        #expect(newest.stdout == "1700000000\n", "\(newest.output)")
        let notJSON = try runCommand(
            [Self.cog, "build", "--secret", secretFlag, "--openapi-schema", "\(dir.path)/model/helper.py"],
            environment: environment, directory: project)
        #expect(notJSON.status == 1)
        #expect(
            notJSON.stderr.contains("--openapi-schema \(dir.path)/model/helper.py: not a JSON object"),
            "\(notJSON.stderr.suffix(500))")
    }
}
