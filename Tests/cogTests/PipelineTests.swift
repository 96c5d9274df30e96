import Foundation
import OCI
import Testing
import TestSupport

/// The whole daemonless pipeline through the `cog` binary: build with apt, pip, a secret and .dockerignore;
/// validate with independent tools; push; pull back with skopeo; predict over the real runtime; serve the
/// schema; rebuild after a code change reusing every other layer.
@Suite(.serialized) struct PipelineTests {
    static var cog: String { "\(packageRoot)/.build/debug/cog" }

    /// A loopback registry holding the debootstrapped base as library/python:3.11-slim.
    static func registryWithBase() throws -> TestRegistry {
        let registry = try TestRegistry()
        let push = try runCommand(["\(packageRoot)/scripts/make-base-image.sh", "push", try TestBaseImage.ensure(), registry.address])
        guard push.status == 0 else { throw TestSetupError("pushing the base image failed: \(push.output)") }
        return registry
    }

    static func project(in dir: TemporaryDirectory) throws -> String {
        try dir.write("model/cog.yaml", """
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
        predict: "predict.py:Predictor"
        """)
        try makeWheel(at: "\(dir.path)/model/wheels/cogtestwheel-1.0-py3-none-any.whl")
        try dir.write("model/helper.py", "PREFIX = 'hello'\n")
        try dir.write("model/predict.py", """
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
        return "\(dir.path)/model"
    }

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
        let environment = ["COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache"]
        let secretFlag = "id=token,src=\(dir.path)/token"

        // MARK: build
        let build = try runCommand([Self.cog, "build", "--oci-out", "\(dir.path)/out", "-t", "pipeline-test", "--secret", secretFlag, "--progress", "plain"],
                                   environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(4000))")
        #expect(build.stderr.contains("secret seen, \(secret.utf8.count) bytes"))

        // MARK: independent validators
        let validate = try runCommand(["oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(dir.path)/out"])
        #expect(validate.status == 0, "\(validate.output)")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        let rootfs = "\(dir.path)/bundle/rootfs"
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/src/predict.py"))
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/src/.cog/openapi_schema.json"))
        var tmp = stat()
        #expect(stat("\(rootfs)/tmp", &tmp) == 0 && tmp.st_mode & 0o7777 == 0o1777, "COPY /tmp/requirements.txt keeps /tmp's mode")
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/usr/games/cowsay"))
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/usr/bin/tini"), "tini from Debian's package")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(rootfs)/usr/sbin/tini")) == "/usr/bin/tini")
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/src/notes.txt"), ".dockerignore is honoured")
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/src/data"))
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/run/secrets/token"))
        let inspect = try runCommand(["skopeo", "inspect", "--config", "oci:\(dir.path)/out:latest"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("run.cog.openapi_schema"))
        #expect(inspect.stdout.contains("six==1.16.0"), "run.cog.pip_freeze is read from the installed packages")
        #expect(inspect.stdout.contains("cogtestwheel"), "the local wheel named in the requirements is installed")
        #expect(inspect.stdout.contains("\"/sbin/tini\""))
        #expect(inspect.stdout.contains("COG_PREDICT_TYPE_STUB=predict.py:Predictor"))

        // MARK: the secret is nowhere
        let search = try runCommand(["sh", "-c", "for f in $(find \(dir.path)/cache/blobs \(dir.path)/cache/steps \(dir.path)/out -type f); do zcat -f \"$f\" 2>/dev/null | grep -l -F '\(secret)' >/dev/null && echo \"$f\"; done; grep -rlF '\(secret)' \(dir.path)/cache/layers \(dir.path)/cache/steps || true"])
        #expect(search.stdout.isEmpty, "secret found in: \(search.stdout)")

        // MARK: push, then skopeo pulls with every digest verified
        let target = "\(registry.address)/pipeline/model:v1"
        let pushed = try runCommand([Self.cog, "push", target, "--secret", secretFlag, "--progress", "plain"], environment: environment, directory: project)
        #expect(pushed.status == 0, "\(pushed.output.suffix(3000))")
        let copy = try runCommand(["skopeo", "copy", "--src-tls-verify=false", "docker://\(target)", "dir:\(dir.path)/pulled"])
        #expect(copy.status == 0, "\(copy.output)")

        // MARK: predict over the real runtime, with the schema enforced
        let predict = try runCommand([Self.cog, "predict", target, "-i", "name=tester", "-i", "times=2"], environment: environment, directory: project)
        #expect(predict.status == 0, "\(predict.output)")
        #expect(predict.stdout == "hello, tester hello, tester\n")
        let refused = try runCommand([Self.cog, "predict", target, "-i", "times=9"], environment: environment, directory: project)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("times: 9 is greater than the maximum of 3"), "\(refused.stderr)")
        // --json in (here from standard input), the whole prediction out as JSON; -e sets the model's environment.
        let jsonMode = try runCommand([Self.cog, "predict", target, "--json", "@-", "-o", "\(dir.path)/prediction.json", "-e", "GREETING_END=!"],
                                      environment: environment, input: #"{"name": "json", "times": 2}"#, directory: project)
        #expect(jsonMode.status == 0, "\(jsonMode.output)")
        let prediction = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/prediction.json"))) as? [String: Any]
        #expect(prediction?["status"] as? String == "succeeded")
        #expect(prediction?["output"] as? String == "hello, json hello, json!")
        let badJSON = try runCommand([Self.cog, "predict", target, "--json", "[1, 2]"], environment: environment, directory: project)
        #expect(badJSON.status == 1)
        #expect(badJSON.stderr.contains("--json: the --json argument must be a JSON object of inputs"), "\(badJSON.stderr)")

        // MARK: serve: /openapi.json describes the inputs
        let port = 20000 + Int.random(in: 0..<20000)
        let serve = try spawnDetached(["env", "COG_CACHE_DIR=\(dir.path)/cache", Self.cog, "serve", target, "-p", "\(port)", "--progress", "plain"], log: "\(dir.path)/serve.log")
        defer { kill(serve, SIGTERM); var status: Int32 = 0; waitpid(serve, &status, 0) }
        var schema = ""
        for _ in 0..<120 {
            schema = (try? runCommand(["python3", "-c", "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:\(port)/openapi.json').read().decode())"]))?.stdout ?? ""
            if schema.contains("Who to greet") { break }
            usleep(250_000)
        }
        #expect(schema.contains("\"times\""), "\((try? String(contentsOfFile: "\(dir.path)/serve.log", encoding: .utf8)) ?? "")")
        #expect(schema.contains("\"maximum\":3"))
        // Published on 127.0.0.1 only (slirp4netns forwards it): not on the machine's other addresses.
        let external = try runCommand(["sh", "-c", "ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if !external.isEmpty {
            let reach = try runCommand(["python3", "-c", "import socket; socket.create_connection(('\(external)', \(port)), timeout=3); print('reached')"])
            #expect(reach.status != 0 && !reach.stdout.contains("reached"), "cog serve answered on \(external):\(port)")
        }

        // MARK: a code change rebuilds only the code (and schema) layers
        let before = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        try dir.write("model/helper.py", "PREFIX = 'goodbye'\n")
        let rebuild = try runCommand([Self.cog, "build", "--oci-out", "\(dir.path)/out", "-t", "pipeline-test", "--secret", secretFlag, "--progress", "plain"],
                                     environment: environment, directory: project)
        #expect(rebuild.status == 0, "\(rebuild.output.suffix(3000))")
        #expect(!rebuild.stderr.contains("   | "), "no step ran again: \(rebuild.stderr)")
        let after = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        let count = before.manifest.layers.count
        #expect(after.manifest.layers.count == count)
        #expect(Array(after.manifest.layers.prefix(count - 2)) == Array(before.manifest.layers.prefix(count - 2)))
        #expect(after.manifest.layers[count - 2] != before.manifest.layers[count - 2], "the code layer changed")
        let again = try runCommand([Self.cog, "predict", "pipeline-test", "-i", "name=tester"], environment: environment, directory: project)
        #expect(again.stdout == "goodbye, tester\n", "\(again.output)")

        // MARK: Cog's --openapi-schema and --timestamp; layers cached under another timestamp are not reused
        let given = #"{"openapi":"3.0.2","info":{"title":"Given","version":"0.1.0"},"paths":{}}"#
        try dir.write("given-schema.json", given + "\n")
        let stamped = try runCommand([Self.cog, "build", "--oci-out", "\(dir.path)/stamped", "--secret", secretFlag, "--progress", "plain",
                                      "--openapi-schema", "\(dir.path)/given-schema.json", "--timestamp", "1700000000"],
                                     environment: environment, directory: project)
        #expect(stamped.status == 0, "\(stamped.output.suffix(3000))")
        #expect(stamped.stderr.contains("secret seen"), "the steps ran again under the new timestamp")
        let image = try OCILayout.open("\(dir.path)/stamped").image(named: "latest")
        #expect(image.configuration.config?.labels?["run.cog.openapi_schema"] == given)
        #expect(image.configuration.created == "2023-11-14T22:13:20Z")
        let code = image.manifest.layers[image.manifest.layers.count - 2].digest.encoded
        let newest = try runCommand(["python3", "-c", "import tarfile,sys; print(max(m.mtime for m in tarfile.open(sys.argv[1])))",
                                     "\(dir.path)/stamped/blobs/sha256/\(code)"])
        #expect(newest.stdout == "1700000000\n", "\(newest.output)")
        let notJSON = try runCommand([Self.cog, "build", "--secret", secretFlag, "--openapi-schema", "\(dir.path)/model/helper.py"],
                                     environment: environment, directory: project)
        #expect(notJSON.status == 1)
        #expect(notJSON.stderr.contains("--openapi-schema \(dir.path)/model/helper.py: not a JSON object"), "\(notJSON.stderr.suffix(500))")
    }

    @Test func rootlessBuildAndPredictAsNobody() throws {
        guard isRoot, commandExists("setpriv") else { return } // root is needed to become nobody
        let registry = try Self.registryWithBase()
        let dir = try TemporaryDirectory("rootless")
        let project = try Self.project(in: dir)
        try dir.write("token", "rootless-secret")
        let cog = try copyForOtherUsers(executable: Self.cog, in: dir)
        _ = try runCommand(["chown", "-R", "nobody:nogroup", dir.path])
        let asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(dir.path)",
                        "COG_REGISTRY_MIRRORS=docker.io=\(registry.address)", "COG_CACHE_DIR=\(dir.path)/cache", cog]
        let build = try runCommand(asNobody + ["build", "--oci-out", "\(dir.path)/out", "-t", "rootless", "--secret", "id=token,src=\(dir.path)/token", "--progress", "plain"], directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(build.stderr.contains("rootless, one uid mapped to root"))
        #expect(build.stderr.contains("because: no subordinate id range for this user"), "the build says why")
        // Its layer dirs (every file the caller's) are kept apart from those of builds that keep owners.
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/cache/layers-single"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/cache/layers"))
        let validate = try runCommand(["oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(dir.path)/out"])
        #expect(validate.status == 0, "\(validate.output)")
        // Files the steps wrote belong to root in the layers, not to nobody.
        let image = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        let owners = try runCommand(["sh", "-c", "bsdtar -tvf \(dir.path)/out/blobs/sha256/\(image.manifest.layers[2].digest.encoded) | awk '{print $3\":\"$4}' | sort -u"]).stdout
        #expect(owners == "0:0\n", "\(owners)")
        let predict = try runCommand(asNobody + ["predict", "rootless", "-i", "name=nobody"], directory: project)
        #expect(predict.stdout == "hello, nobody\n", "\(predict.output)")
    }

    @Test func snapshotCaptureBuildsAWorkingImage() throws {
        // COG_CAPTURE=snapshot forces the method used where overlayfs cannot be mounted.
        let registry = try Self.registryWithBase()
        let dir = try TemporaryDirectory("snapshot")
        let project = try Self.project(in: dir)
        try dir.write("token", "snapshot-secret")
        // COG_CA_CERT too: the certificate goes into the image, and pip in later steps still reaches PyPI
        // through this machine's proxy (the sandbox's CA settings win over the image's SSL_CERT_FILE).
        let certificate = try CACertificateTests.certificate(in: dir)
        let environment = ["COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache", "COG_CAPTURE": "snapshot",
                           "COG_CA_CERT": "\(dir.path)/ca.crt"]
        let build = try runCommand([Self.cog, "build", "--oci-out", "\(dir.path)/out", "-t", "snap", "--secret", "id=token,src=\(dir.path)/token", "--progress", "plain"],
                                   environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/bundle/rootfs/usr/games/cowsay"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/bundle/rootfs/run/secrets/token"))
        let installed = try String(contentsOfFile: "\(dir.path)/bundle/rootfs/usr/local/share/ca-certificates/cog-ca-cert.crt", encoding: .utf8)
        #expect(installed.trimmingCharacters(in: .whitespacesAndNewlines) == certificate.trimmingCharacters(in: .whitespacesAndNewlines))
        let systemBundle = try String(contentsOfFile: "\(dir.path)/bundle/rootfs/etc/ssl/certs/ca-certificates.crt", encoding: .utf8)
        #expect(systemBundle.contains(certificate.split(separator: "\n")[1]), "the certificate is in the system bundle")
        let config = try OCILayout.open("\(dir.path)/out").image(named: "latest").configuration.config
        #expect(config?.env?.contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") == true)
        let predict = try runCommand([Self.cog, "predict", "snap", "-i", "name=snapshot"], environment: environment, directory: project)
        #expect(predict.stdout == "hello, snapshot\n", "\(predict.output)")
    }

    @Test func ctrlCStopsTheStepAndKeepsFinishedStepsCached() throws {
        let registry = try Self.registryWithBase()
        let dir = try TemporaryDirectory("interrupt")
        let marker = "62\(Int.random(in: 1000...9999))"
        let yaml = "build:\n  python_version: \"3.11\"\n  run:\n    - \"echo before > /before\"\n"
        try dir.write("model/cog.yaml", yaml + "    - \"sleep \(marker)\"\npredict: \"predict.py:Predictor\"\n")
        try dir.write("model/predict.py", "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n")
        let environment = ["COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache"]
        let log = "\(dir.path)/build.log"
        let pid = try spawnDetached(["env"] + environment.map { "\($0.key)=\($0.value)" }
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
        let again = try runCommand([Self.cog, "build", "--progress", "plain"], environment: environment, directory: "\(dir.path)/model")
        #expect(again.status == 0, "\(again.stderr.suffix(2000))")
        #expect(again.stderr.contains("RUN echo before > /before  (cached)"), "\(again.stderr.suffix(2000))")
    }

    @Test func aFailingStepFailsTheBuildClearlyAndWritesNoOutput() throws {
        let registry = try Self.registryWithBase()
        let dir = try TemporaryDirectory("pipeline")
        try dir.write("bad/cog.yaml", """
        build:
          python_version: "3.11"
          system_packages:
            - "no-such-package-cog-test"
        predict: "predict.py:Predictor"
        """)
        try dir.write("bad/predict.py", "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n")
        let environment = ["COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache"]
        let result = try runCommand([Self.cog, "build", "--oci-out", "\(dir.path)/out", "--progress", "plain"],
                                    environment: environment, directory: "\(dir.path)/bad")
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: step \"apt-get install no-such-package-cog-test\" failed with exit code 100"), "\(result.stderr.suffix(2000))")
        #expect(result.stderr.contains("Unable to locate package no-such-package-cog-test"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/out"))
        // The step before the failing one was cached (its layer finished writing before cog gave up), and no
        // scratch dir is left behind.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/steps")) ?? []).count == 1)
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/scratch")) ?? []
        #expect(scratch.isEmpty, "\(scratch)")
        try dir.write("bad/cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
        let fixed = try runCommand([Self.cog, "build", "--progress", "plain"], environment: environment, directory: "\(dir.path)/bad")
        #expect(fixed.status == 0, "\(fixed.stderr.suffix(2000))")
        #expect(fixed.stderr.contains("RUN install tini  (cached)"), "\(fixed.stderr.prefix(2000))")
    }

    @Test func unreachableRegistrySaysSo() throws {
        let dir = try TemporaryDirectory("pipeline")
        try dir.write("m/cog.yaml", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
        try dir.write("m/predict.py", "")
        let result = try runCommand([Self.cog, "build", "--progress", "plain", "--base-image", "127.0.0.1:9/library/python:3.11-slim"],
                                    environment: ["COG_CACHE_DIR": "\(dir.path)/cache", "COG_REGISTRY_RETRIES": "2"],
                                    directory: "\(dir.path)/m")
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: cannot reach http://127.0.0.1:9/v2/library/python/manifests/3.11-slim"), "\(result.stderr)")
    }
}

/// `cog login` against a registry with htpasswd auth, then a push with the stored credentials.
@Suite(.serialized) struct LoginTests {
    @Test func loginStoresCredentialsThatPushUses() throws {
        let registry = try TestRegistry(["--htpasswd", "alice:s3cret"])
        let dir = try TemporaryDirectory("login")
        let environment = ["DOCKER_CONFIG": "\(dir.path)/docker", "HOME": dir.path]
        let wrong = try runCommand([PipelineTests.cog, "login", registry.address, "-u", "alice", "--token-stdin"], environment: environment, input: "nope\n")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("rejected the credentials"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("nope"))
        let login = try runCommand([PipelineTests.cog, "login", registry.address, "-u", "alice", "--token-stdin"], environment: environment, input: "s3cret\n")
        #expect(login.status == 0, "\(login.output)")
        let config = try String(contentsOfFile: "\(dir.path)/docker/config.json", encoding: .utf8)
        #expect(config.contains(registry.address))
        // skopeo reads the same Docker config: the stored credentials work for another client too.
        let base = try TestBaseImage.ensure()
        let copy = try runCommand(["skopeo", "copy", "--dest-tls-verify=false", "--authfile", "\(dir.path)/docker/config.json",
                                   "oci:\(base):3.11-slim", "docker://\(registry.address)/alice/base:v1"])
        #expect(copy.status == 0, "\(copy.output)")
        let pull = try runCommand([PipelineTests.cog, "pull", "\(registry.address)/alice/base:v1", "--progress", "plain"],
                                  environment: environment.merging(["COG_CACHE_DIR": "\(dir.path)/cache"]) { $1 })
        #expect(pull.status == 0, "\(pull.output)")
    }
}
