import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// `cog debug` and `cog init` run end to end; the text compared is what a person reads.
@Suite struct CLITests {
    @Test func debugPrintsTheDockerfileForTheBundledExample() throws {
        // No cog-base registry answers (a closed port stands for r8.im out of reach): one warning, Cog's fallback.
        let registry = "127.0.0.1:\(try closedPort())"
        let result = try runCommand(
            [try cogExecutable(), "debug"], environment: ["COG_REGISTRY_HOST": registry],
            directory: "\(packageRoot)/examples/hello")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix(
                "warning: Could not find a suitable base image, continuing without base image support (cannot check \(registry)/cog-base:python3.11: "
            ), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("#syntax=docker/dockerfile:1.4\n"))
        for line in [
            "FROM python:3.11-slim",
            "RUN --mount=type=cache,target=/var/cache/apt,id=apt-cache,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,id=apt-lists,sharing=locked apt-get update -qq && apt-get install -qqy cowsay",
            "#   pyfiglet==1.0.2",
            "COPY --from=cog_build requirements.txt /tmp/requirements.txt",
            "WORKDIR /src",
            "ENV COG_PREDICT_TYPE_STUB=predict.py:Predictor",
            "COPY . /src",
            "EXPOSE 5000",
            #"ENTRYPOINT ["/sbin/tini", "--"]"#,
            #"CMD ["python", "-m", "cog.server.http"]"#,
            #"LABEL run.cog.has_init="true""#,
        ] {
            #expect(result.stdout.contains("\n\(line)\n"), "missing: \(line)")
        }
    }

    @Test func debugFindsTheProjectFromASubdirectoryAndTakesABaseImage() throws {
        let project = try makeProject(
            "build:\n  python_version: \"3.12\"\npredict: \"predict.py:P\"\n", files: ["sub/dir/x.txt": ""])
        let result = try runCommand(
            [try cogExecutable(), "debug", "--base-image", "registry.local/python:3.12-slim"],
            directory: "\(project.path)/sub/dir")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\nFROM registry.local/python:3.12-slim\n"))
    }

    @Test func debugTakesCogsBaseImageSwitches() throws {
        let project = try makeProject(
            "build:\n  gpu: true\n  python_version: \"3.11\"\n  python_packages: [\"torch==2.3.1\"]\npredict: \"predict.py:P\"\n"
        )
        let cog = try cogExecutable()
        let unreachable = ["COG_REGISTRY_HOST": "127.0.0.1:\(try closedPort())"]
        let chosen = try runCommand([cog, "debug"], environment: unreachable, directory: project.path)
        #expect(chosen.stdout.contains("\nFROM nvidia/cuda:"), "\(chosen.output)")
        let slim = try runCommand(
            [cog, "debug", "--use-cuda-base-image=false"], environment: unreachable, directory: project.path)
        #expect(slim.status == 0, "\(slim.stderr)")
        #expect(slim.stdout.contains("\nFROM python:3.11-slim\n"))
        #expect(slim.stdout.contains("download.pytorch.org/whl/cu"), "CUDA comes with the torch wheels")
        let cogBase = try runCommand(
            [cog, "debug", "--use-cog-base-image", "true"], environment: unreachable, directory: project.path)
        #expect(cogBase.status == 1)
        #expect(
            cogBase.stderr.hasPrefix(
                "error: cannot check \(unreachable["COG_REGISTRY_HOST"] ?? "")/cog-base:cuda12.1-python3.11-torch2.3.1: "
            ),
            "\(cogBase.stderr)")
        #expect(cogBase.stderr.contains("or pass --use-cog-base-image=false"), "\(cogBase.stderr)")
        let both = try runCommand(
            [cog, "debug", "--base-image", "x/python:3.11", "--use-cuda-base-image", "false"], directory: project.path)
        #expect(both.status != 0)
        #expect(both.stderr.contains("--base-image and --use-cuda-base-image are mutually exclusive"), "\(both.stderr)")
        let wrong = try runCommand([cog, "debug", "--use-cuda-base-image", "maybe"], directory: project.path)
        #expect(
            wrong.stderr.contains("--use-cuda-base-image must be auto, true or false, not \"maybe\""), "\(wrong.stderr)"
        )
    }

    @Test func debugPrintsEveryErrorAndExitsNonZero() throws {
        let project = try makeProject(
            "build:\n  python_version: \"3.6\"\n  sytem_packages: [x]\npredict: \"predict.py:P\"\n")
        let result = try runCommand([try cogExecutable(), "debug"], directory: project.path)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr == """
                cog.yaml:2:19: Python 3.6 is not supported: cog supports Python 3.8 to 3.13
                    2 |   python_version: "3.6"
                      |                   ^
                  hint: set one of 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, e.g. python_version: "3.12"

                cog.yaml:3:3: unknown key "sytem_packages" in build
                    3 |   sytem_packages: [x]
                      |   ^
                  hint: did you mean "system_packages"?

                2 errors in cog.yaml

                """)
    }

    @Test func debugPrintsWarningsToStandardError() throws {
        let project = try makeProject("environment:\n  python_version: \"3.8\"\nmodel: \"model.py:M\"\n")
        let result = try runCommand([try cogExecutable(), "debug"], directory: project.path)
        #expect(result.status == 0)
        #expect(result.stderr.hasPrefix("cog.yaml:1:1: warning: this cog.yaml uses Cog's older schema"))
        #expect(result.stdout.contains("\nFROM python:3.8-slim\n"))
    }

    @Test func initWritesAStarterProjectThatPlans() throws {
        let project = try makeProject(nil)
        let result = try runCommand([try cogExecutable(), "init"], directory: project.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Wrote cog.yaml\nWrote run.py\nWrote .dockerignore\n"))
        let loaded = try ConfigLoader.load(projectDirectory: project.path)
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.config.config.predict == "run.py:Runner")
        let runner = try String(contentsOfFile: "\(project.path)/run.py", encoding: .utf8)
        #expect(runner.contains("class Runner(BaseRunner):") && runner.contains("    def run("))
        let plan = try BuildPlanner.plan(config: loaded.config, projectDirectory: project.path)
        #expect(
            plan.steps.last
                == .copyProject(
                    destination: "/src", excludes: DockerIgnore.parse(StarterProject.dockerignore) + [".cog"]))
    }

    @Test func initNeverOverwrites() throws {
        let project = try makeProject("# mine\n", files: ["run.py": "# also mine\n"])
        let result = try runCommand([try cogExecutable(), "init", "--directory", project.path])
        #expect(result.status == 0)
        #expect(
            result.stdout.hasPrefix(
                "Skipped cog.yaml: it already exists\nSkipped run.py: it already exists\nWrote .dockerignore\n"))
        #expect(try String(contentsOfFile: "\(project.path)/cog.yaml", encoding: .utf8) == "# mine\n")
        #expect(try String(contentsOfFile: "\(project.path)/run.py", encoding: .utf8) == "# also mine\n")
    }
}
