import Foundation
import OCI
import TestSupport
import Testing

/// What Cog users see of Cog in the built image and on the command line, through the `cog` binary.
@Suite(.serialized) struct ParityTests {
    static let model = """
        build:
          python_version: "3.11"
        predict: "predict.py:Predictor"

        """

    @Test func labelsAreCogsWithTheGitRevisionAndOurOwnVersion() throws {
        let scene = try Scene("labels")
        let project = try scene.project("model", Self.model)
        for command in [
            ["init"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"],
            ["config", "commit.gpgsign", "false"], ["add", "."], ["commit", "-q", "-m", "initial"], ["tag", "0.0.1"],
        ] {
            let git = try runCommand(["git", "-C", project] + command)
            #expect(git.status == 0, "\(git.output)")
        }
        let head = try runCommand(["git", "-C", project, "rev-parse", "HEAD"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let built = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/out"], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        let labels = try OCILayout.open("\(scene.dir.path)/out").image(named: "latest").configuration.config?.labels
        #expect(
            labels.map { $0.keys.sorted() } == [
                "org.opencontainers.image.base.digest", "org.opencontainers.image.base.name",
                "org.opencontainers.image.revision", "org.opencontainers.image.version", "run.cog.builder",
                "run.cog.config", "run.cog.has_init", "run.cog.openapi_schema", "run.cog.pip_freeze", "run.cog.version",
            ])
        #expect(labels?["run.cog.version"] == "0.23.1", "the cog runtime installed, as in Cog")
        #expect(labels?["run.cog.builder"] == "cog-daemonless 0.1.0")
        #expect(labels?["run.cog.has_init"] == "true")
        #expect(labels?["org.opencontainers.image.revision"] == head)
        #expect(labels?["org.opencontainers.image.version"] == "0.0.1")
        #expect(labels?["run.cog.config"] == #"{"build":{"python_version":"3.11"},"predict":"predict.py:Predictor"}"#)

        // A commit past the tag and a changed file: `git describe --tags --dirty`, as Cog; COG_LABEL_VERSION.
        _ = try runCommand(["git", "-C", project, "commit", "-q", "--allow-empty", "-m", "next"])
        try scene.dir.write("model/cog.yaml", Self.model + "# changed\n")
        let again = try scene.cog(
            ["build", "--oci-out", "\(scene.dir.path)/again"], in: project, extra: ["COG_LABEL_VERSION": "0.16.9"])
        #expect(again.status == 0, "\(again.stderr.suffix(3000))")
        let relabeled = try OCILayout.open("\(scene.dir.path)/again").image(named: "latest").configuration.config?
            .labels
        #expect(relabeled?["run.cog.version"] == "0.16.9")
        let version = relabeled?["org.opencontainers.image.version"] ?? ""
        #expect(version.hasPrefix("0.0.1-1-g") && version.hasSuffix("-dirty"), "\(version)")

        // Not a checkout: no git labels, and no failure.
        try FileManager.default.removeItem(atPath: "\(project)/.git")
        let plain = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/plain"], in: project)
        #expect(plain.status == 0, "\(plain.stderr.suffix(3000))")
        let plainLabels = try OCILayout.open("\(scene.dir.path)/plain").image(named: "latest").configuration.config?
            .labels
        #expect(plainLabels?["org.opencontainers.image.revision"] == nil)
        #expect(plainLabels?["org.opencontainers.image.version"] == nil)
    }

    @Test func execAndRunShowTheirHelp() throws {
        for name in ["exec", "run"] {
            let help = try runCommand([Scene.cog, name, "--help"])
            #expect(help.status == 0, "\(help.output)")
            #expect(help.stdout.contains("USAGE: cog exec [<options>] [<command> ...]"), "\(help.output)")
        }
    }

    @Test func execPredictJSONAndInputsCheckedFirst() throws {
        let scene = try Scene("cli-parity")
        let project = try scene.project(
            "model", Self.model,
            files: [
                "predict.py": """
                from cog import BasePredictor, Input

                class Predictor(BasePredictor):
                    def predict(self, s: str, n: int = Input(default=1)) -> str:
                        return s * n + "!"
                """
            ])
        // Cog's boolean flags with values (given bare: CogBaseTests, EnvironmentTests).
        let built = try scene.cog(
            [
                "build", "-t", "parity", "--separate-weights=false", "--no-cache=false", "--use-cog-base-image=false",
                "--progress", "plain",
            ], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        #expect(!built.stderr.contains("suitable base image"), "no cog-base lookup: \(built.stderr)")

        // cog exec (and its older name, run): standard input reaches the command, -e its environment.
        let exec = try runCommand(
            [Scene.cog, "exec", "--image", "parity", "python", "-c", "import sys; print(sys.stdin.read().upper())"],
            environment: scene.environment, input: "from stdin", directory: project)
        #expect(exec.status == 0, "\(exec.stderr.suffix(2000))")
        #expect(exec.stdout == "FROM STDIN\n", "\(exec.output)")
        let run = try scene.cog(
            ["run", "--image", "parity", "-e", "GREETING=hi", "sh", "-c", "echo $GREETING --no-cache=true"],
            in: project)
        #expect(run.stdout == "hi --no-cache=true\n", "\(run.output)")

        // -p publishes the command's port on the host, as Cog's exec (here a server answering one request).
        let port = Int.random(in: 20000..<40000)
        let variables = scene.environment.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let server = try spawnDetached(
            [
                "sh", "-c",
                "cd '\(project)' && exec env \(variables) \(Scene.cog) exec --image parity -p \(port) python -c 'import http.server as h; h.HTTPServer((\"0.0.0.0\", \(port)), h.SimpleHTTPRequestHandler).handle_request()'",
            ], log: "\(scene.dir.path)/exec-p.log")
        var fetched = ""
        for _ in 0..<120 where fetched.isEmpty {
            let get = try runCommand([
                "python3", "-c",
                "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:\(port)/cog.yaml', timeout=2).read().decode(), end='')",
            ])
            if get.status == 0 { fetched = get.stdout } else { usleep(250_000) }
        }
        if fetched.isEmpty { kill(server, SIGTERM) }  // never reached: stop it rather than wait forever
        var status: Int32 = 0
        waitpid(server, &status, 0)
        #expect(
            fetched == Self.model,
            "\((try? String(contentsOfFile: "\(scene.dir.path)/exec-p.log", encoding: .utf8)) ?? "")")
        let badPort = try scene.cog(["exec", "--image", "parity", "-p", "[::1]:80", "true"], in: project)
        #expect(badPort.status != 0)
        #expect(badPort.stderr.contains("the address must be IPv4"), "\(badPort.stderr)")

        // Inputs are checked against the schema before the model starts, in Cog's words.
        let unknown = try scene.cog(["predict", "parity", "-i", "s=a", "-i", "wrong=1"], in: project)
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr.contains(#"error: unknown input "wrong"; valid inputs are: n, s"#), "\(unknown.stderr)")
        #expect(!unknown.stderr.contains("starting the model"))
        let missing = try scene.cog(["predict", "parity", "-i", "n=2"], in: project)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(#"error: missing required input "s""#), "\(missing.stderr)")
        #expect(!missing.stderr.contains("starting the model"))

        // --json without -o: the whole prediction on standard output, as Cog prints it.
        let json = try scene.cog(["predict", "parity", "--json", #"{"s": "ab", "n": 2}"#], in: project)
        #expect(json.status == 0, "\(json.stderr.suffix(2000))")
        let prediction = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(prediction?["status"] as? String == "succeeded", "\(json.stdout)")
        #expect(prediction?["output"] as? String == "abab!")
        #expect(json.stdout.hasPrefix("{\n"), "indented: \(json.stdout)")

        // -o: a text output goes to that file, as Cog writes it.
        let written = try scene.cog(
            ["predict", "parity", "-i", "s=cd", "-o", "\(scene.dir.path)/out.txt"], in: project)
        #expect(written.status == 0, "\(written.stderr.suffix(2000))")
        #expect(written.stdout.isEmpty, "\(written.stdout)")
        #expect((try? String(contentsOfFile: "\(scene.dir.path)/out.txt", encoding: .utf8)) == "cd!")
    }
}

/// `cog train` over the real runtime: `--x-mode train`, `/trainings`, the model's output shown, the output written
/// to `-o`.
@Suite(.serialized) struct TrainTests {
    @Test func trainRunsTheTrainerAndWritesItsOutput() throws {
        let scene = try Scene("train")
        let project = try scene.project(
            "model", ParityTests.model + "train: \"train.py:train\"\n",
            files: [
                "train.py": """
                from cog import Input, Path

                print("the trainer is loading")

                def train(prefix: str, n: int = Input(default=2)) -> Path:
                    out = Path("/tmp/weights.txt")
                    out.write_text(prefix * n)
                    return out
                """
            ])
        let built = try scene.cog(["build", "-t", "trainable", "--progress", "plain"], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        let trained = try scene.cog(
            ["train", "trainable", "-i", "prefix=ab", "-i", "n=3", "-o", "\(scene.dir.path)/weights.txt"], in: project)
        #expect(trained.status == 0, "\(trained.stderr.suffix(3000))")
        #expect(trained.stderr.contains("Written output to: \(scene.dir.path)/weights.txt"), "\(trained.stderr)")
        // The model's output as it starts (what loading and setup() print), as Cog shows the container's logs.
        #expect(trained.stderr.contains("the trainer is loading"), "\(trained.stderr)")
        #expect((try? String(contentsOfFile: "\(scene.dir.path)/weights.txt", encoding: .utf8)) == "ababab")
        let unknown = try scene.cog(["train", "trainable", "-i", "prefix=x", "-i", "wrong=1"], in: project)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains(#"unknown input "wrong"; valid inputs are: n, prefix"#), "\(unknown.stderr)")

        // An image without a trainer says so before starting anything.
        try scene.dir.write("model/cog.yaml", ParityTests.model)
        let plain = try scene.cog(["build", "-t", "untrainable"], in: project)
        #expect(plain.status == 0, "\(plain.stderr.suffix(3000))")
        let refused = try scene.cog(["train", "untrainable", "-i", "prefix=x"], in: project)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("this image has no trainer"), "\(refused.stderr)")
    }
}
