import Foundation
import TestSupport
import Testing

@testable import CogEngine

@Suite struct BuildPlannerTests {
    let hello = """
        build:
          python_version: "3.11"
          system_packages:
            - "cowsay"
          python_packages:
            - "pyfiglet==1.0.2"
        predict: "predict.py:Predictor"
        """

    @Test func cpuPlanFollowsCogsOrder() throws {
        let plan = try plan(hello, files: [".dockerignore": "# comment\n**/.git\n\n!keep.txt\n"])
        #expect(plan.baseImage == "python:3.11-slim")
        #expect(plan.pythonVersion == "3.11")
        #expect(plan.steps.count == 10)
        #expect(plan.steps[0] == .env(BuildPlanner.preamble))
        #expect(
            runSteps(plan).map(\.summary) == [
                "install tini", "apt-get install cowsay", "pip install -r requirements.txt", "install cog==0.23.1",
                "ldconfig for Python libraries",
            ])
        #expect(
            plan.steps[3]
                == .copyFile(path: "/tmp/requirements.txt", contents: Array("pyfiglet==1.0.2\n".utf8), mode: 0o644))
        #expect(plan.steps[7] == .workdir("/src"))
        #expect(plan.steps[8] == .env([EnvVar(name: "COG_PREDICT_TYPE_STUB", value: "predict.py:Predictor")]))
        #expect(plan.steps[9] == .copyProject(destination: "/src", excludes: ["**/.git", "!keep.txt", ".cog"]))
        let tini = runSteps(plan)[0]
        #expect(
            tini.command
                == "apt-get update -qq && apt-get install -qqy --no-install-recommends tini && ln -sf /usr/bin/tini /sbin/tini"
        )
        #expect(
            tini.mounts == [
                .cache(target: "/var/cache/apt", id: "apt-cache"),
                .cache(target: "/var/lib/apt/lists", id: "apt-lists"),
            ])
        #expect(
            runSteps(plan)[2].command.hasSuffix(
                "python -m pip install --cache-dir /root/.cache/pip -r /tmp/requirements.txt"))
    }

    @Test func imageConfigAndLabels() throws {
        let plan = try plan(hello + "\ntrain: \"train.py:train\"\nconcurrency:\n  max: 3\n")
        #expect(plan.image.entrypoint == ["/sbin/tini", "--"])
        #expect(plan.image.cmd == ["python", "-m", "cog.server.http"])
        #expect(plan.image.workingDir == "/src")
        #expect(plan.image.exposedPorts == ["5000/tcp"])
        #expect(
            plan.image.env.map(\.name) == [
                "DEBIAN_FRONTEND", "PYTHONUNBUFFERED", "LD_LIBRARY_PATH", "NVIDIA_DRIVER_CAPABILITIES",
                "COG_PREDICT_TYPE_STUB", "COG_TRAIN_TYPE_STUB", "COG_MAX_CONCURRENCY",
            ])
        #expect(plan.image.labels[BuildPlan.Label.version] == CogRuntime.newest, "the runtime installed")
        #expect(plan.image.labels[BuildPlan.Label.builder] == "cog-daemonless \(CogVersion.this)")
        #expect(plan.image.labels[BuildPlan.Label.revision] == nil)
        #expect(plan.image.labels[BuildPlan.Label.hasInit] == "true")
        #expect(plan.image.labels[BuildPlan.Label.config] == plan.config.labelJSON())
    }

    /// As in Cog, `run.cog.version` equals the `cog.__version__` the image installs; COG_LABEL_VERSION wins.
    @Test func versionLabelFollowsTheRuntimeInstalled() throws {
        let pinned = try plan(
            "build:\n  python_version: \"3.12\"\n  sdk_version: \"0.18.0\"\npredict: \"predict.py:P\"\n")
        #expect(pinned.image.labels[BuildPlan.Label.version] == "0.18.0")
        let older = try plan("build:\n  python_version: \"3.9\"\npredict: \"predict.py:P\"\n")
        #expect(older.image.labels[BuildPlan.Label.version] == CogRuntime.newestForPython38)
        var options = BuildPlanner.Options()
        options.cogVersionLabel = "0.16.9"
        #expect(try plan(hello, options: options).image.labels[BuildPlan.Label.version] == "0.16.9")
    }

    @Test func gpuPlanProvisionsPythonWithUv() throws {
        let options = BuildPlanner.Options(
            uvIndex: "https://mirror.example/pypi/simple/", pythonInstallMirror: "https://mirror.example/pbs")
        let plan = try plan(
            "build:\n  gpu: true\n  python_version: \"3.12\"\n  python_packages: [\"torch==2.7.1\"]\npredict: \"predict.py:P\"\n",
            options: options)
        #expect(plan.baseImage == "nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04")
        let runs = runSteps(plan)
        #expect(
            runs.map(\.summary) == [
                "install tini", "install tools for Python provisioning",
                "install uv 0.9.26 from https://mirror.example/pypi/simple/",
                "install Python 3.12 with uv", "pip install -r requirements.txt", "install cog==0.23.1",
                "ldconfig for Python libraries",
            ])
        #expect(runs[2].command.contains("index=https://mirror.example/pypi/simple;"))
        #expect(runs[2].command.contains("sha256sum -c -"))
        #expect(
            runs[3].command.hasPrefix("UV_PYTHON_INSTALL_MIRROR=https://mirror.example/pbs uv python install 3.12 && "))
        #expect(
            runs[4].command.hasSuffix(
                "uv run pip install --break-system-packages --cache-dir /root/.cache/pip -r /tmp/requirements.txt"))
        #expect(plan.image.env.contains(EnvVar(name: "UV_PYTHON", value: "3.12")))
        #expect(plan.image.env.contains(EnvVar(name: "PATH", value: "/usr/local/bin:$PATH")))
    }

    @Test(
        arguments: [
            ("python:3.11-slim", false, BuildPlanner.BaseKind.python),
            ("registry.local/library/python:3.11", true, .python),
            ("registry.local/nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04", false, .withoutPython),
            ("debian:bookworm", true, .withoutPython), ("debian:bookworm", false, .python),
        ] as [(String, Bool, BuildPlanner.BaseKind)])
    func baseOverrideKinds(_ reference: String, _ gpu: Bool, _ kind: BuildPlanner.BaseKind) {
        #expect(BuildPlanner.baseKind(reference, gpu: gpu) == kind)
    }

    @Test func baseOverrideReplacesFrom() throws {
        let plan = try plan(hello, base: "localhost:5000/python:3.11-slim")
        #expect(plan.baseImage == "localhost:5000/python:3.11-slim")
        #expect(!runSteps(plan).contains { $0.summary.contains("uv") })
    }

    @Test func runCommandsKeepTheirMountsAndOrder() throws {
        let yaml = """
            build:
              python_version: "3.12"
              run:
                - --mount=type=cache,target=/root/.cache/pip pip install cog==0.10.0a15
                - command: cat /etc/secret
                  mounts:
                    - {type: secret, id: token, target: /etc/secret}
              pre_install:
                - echo last
            predict: "predict.py:P"
            """
        let runs = runSteps(try plan(yaml)).suffix(3)
        #expect(runs.map(\.command) == ["pip install cog==0.10.0a15", "cat /etc/secret", "echo last"])
        #expect(
            runs.map(\.mounts) == [
                [.cache(target: "/root/.cache/pip", id: "/root/.cache/pip")],
                [.secret(id: "token", target: "/etc/secret", required: false)], [],
            ])
    }

    @Test func userEnvironmentIsSortedAndSetBeforeAptAsCogDoes() throws {
        let plan = try plan(
            "environment: [\"ZED=1\", \"ALPHA=two words\"]\nbuild:\n  system_packages: [curl]\npredict: \"predict.py:P\"\n"
        )
        #expect(plan.steps[2] == .env([EnvVar(name: "ALPHA", value: "two words"), EnvVar(name: "ZED", value: "1")]))
        #expect(plan.dockerfile().contains("\nENV ALPHA=\"two words\" ZED=1\n"))
    }

    @Test func anotherConfigFileIsCopiedToCogYAML() throws {
        let project = try makeProject(nil, files: ["gpu.yaml": hello])
        let loaded = try ConfigLoader.load(projectDirectory: project.path, configFile: "gpu.yaml")
        let plan = try BuildPlanner.plan(config: loaded.config, projectDirectory: project.path)
        #expect(runSteps(plan).last?.command == "cp /src/gpu.yaml /src/cog.yaml")
    }

    @Test func cacheKeyMaterialNamesWhatDeterminesTheOutput() {
        let secret = BuildStep.run(
            RunStep(command: "cat /s", mounts: [.secret(id: "token", target: "/s", required: false)], summary: "x"))
        #expect(
            secret.cacheKeyMaterial
                == #"{"command":"cat /s","kind":"run","mounts":[["secret","token","/s"]],"version":1}"#)
        let a = BuildStep.copyFile(path: "/tmp/requirements.txt", contents: Array("a\n".utf8), mode: 0o644)
        let b = BuildStep.copyFile(path: "/tmp/requirements.txt", contents: Array("b\n".utf8), mode: 0o644)
        #expect(a.cacheKeyMaterial != b.cacheKeyMaterial)
        #expect(
            a.cacheKeyMaterial.contains(
                "\"sha256\":\"87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7\""))
        #expect(
            BuildStep.env([EnvVar(name: "A", value: "1")]).cacheKeyMaterial
                != BuildStep.env([EnvVar(name: "A", value: "2")]).cacheKeyMaterial)
        #expect(BuildStep.workdir("/src").cacheKeyMaterial == #"{"kind":"workdir","path":"/src","version":1}"#)
    }

    @Test func envValuesExpandLikeDockerfileENV() {
        let lookup = { (name: String) in ["LD_LIBRARY_PATH": "/usr/local/nvidia/lib", "PATH": "/usr/bin"][name] }
        #expect(
            BuildPlanner.preamble[2].expandedValue(lookup: lookup)
                == "/usr/local/nvidia/lib:/usr/lib/x86_64-linux-gnu:/usr/local/nvidia/lib64:/usr/local/nvidia/bin")
        #expect(
            EnvVar(name: "PATH", value: "/usr/local/bin:${PATH}").expandedValue(lookup: lookup)
                == "/usr/local/bin:/usr/bin")
        #expect(EnvVar(name: "X", value: #"\$HOME and $UNSET."#).expandedValue(lookup: lookup) == "$HOME and .")
    }

    @Test func netEnvironmentKeepsFirstOrderAndLastValue() {
        let steps: [BuildStep] = [
            .env([EnvVar(name: "A", value: "1"), EnvVar(name: "B", value: "1")]), .workdir("/src"),
            .env([EnvVar(name: "A", value: "2")]),
        ]
        #expect(BuildPlan.netEnvironment(of: steps) == [EnvVar(name: "A", value: "2"), EnvVar(name: "B", value: "1")])
    }
}
