import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// The plan on a cog-base image (Cog's `GenerateInitialSteps` with `useCogBaseImage`): no preamble, tini or
/// ldconfig (the base has them), system packages the base lacks, uv, then requirements and runtime with uv.
@Suite struct CogBasePlanTests {
    let yaml = """
        build:
          python_version: "3.11"
          system_packages: ["ffmpeg", "cowsay", "git"]
          python_packages: ["six==1.16.0"]
        environment: ["GREETING=hi"]
        predict: "predict.py:Predictor"
        """
    let cpuBase = CogBaseImage(registryHost: "r8.im", cuda: nil, python: "3.11", torch: nil)

    @Test func pathBStartsFromTheCogBaseImageWithoutThePreamble() throws {
        let plan = try plan(yaml, cogBase: cpuBase)
        #expect(plan.baseImage == "r8.im/cog-base:python3.11")
        #expect(plan.cogBaseImage == "r8.im/cog-base:python3.11")
        #expect(plan.steps.first == .env([EnvVar(name: "GREETING", value: "hi")]))
        #expect(!plan.steps.contains(.env(BuildPlanner.preamble)))
        #expect(
            runSteps(plan).map(\.summary) == [
                "apt-get install cowsay", "install uv 0.9.26 from https://pypi.org/simple",
                "pip install -r requirements.txt", "install cog==0.23.1",
            ])
        #expect(plan.steps.contains(.env([EnvVar(name: "UV_SYSTEM_PYTHON", value: "true")])))
        let commands = runSteps(plan).map(\.command)
        #expect(commands[0].hasSuffix("apt-get install -qqy cowsay"))
        #expect(commands[2].hasSuffix("uv run pip install --cache-dir /root/.cache/pip -r /tmp/requirements.txt"))
        #expect(commands[3].hasSuffix("uv pip install --no-cache cog==0.23.1"))
        #expect(plan.image.labels["run.cog.cog-base-image-name"] == "r8.im/cog-base:python3.11")
        #expect(plan.image.labels["run.cog.has_init"] == "true")
        #expect(plan.image.entrypoint == ["/sbin/tini", "--"])
        let dockerfile = plan.dockerfile()
        #expect(dockerfile.contains("\nFROM r8.im/cog-base:python3.11\n"))
        #expect(dockerfile.contains("\nLABEL run.cog.cog-base-image-name=\"r8.im/cog-base:python3.11\"\n"))
        #expect(!dockerfile.contains("tini\n") && !dockerfile.contains("ldconfig"))
    }

    @Test func onCUDA13BasesPackagesBreakSystemPackagesAndPythonIsLinked() throws {
        let base = CogBaseImage(registryHost: "r8.im", cuda: "13.0", python: "3.12", torch: "2.9.0")
        let plan = try plan(yaml, cogBase: base)
        let commands = runSteps(plan).map(\.command)
        #expect(commands.contains("ln -sf /usr/bin/python3 /usr/local/bin/python"))
        #expect(
            commands.contains {
                $0.hasSuffix(
                    "uv run pip install --break-system-packages --cache-dir /root/.cache/pip -r /tmp/requirements.txt")
            })
        #expect(commands.contains { $0.hasSuffix("uv pip install --break-system-packages --no-cache cog==0.23.1") })
    }

    @Test func uvIsFetchedWithPythonFromTheIndexAndChecked() throws {
        let command = BuildPlanner.uvWithPython("https://pypi.example/simple/")
        #expect(command.hasPrefix("python3 -c 'import hashlib"))
        #expect(command.hasSuffix("' https://pypi.example/simple"))
        #expect(command.contains(BuildPlanner.uvWheelSHA256))
        #expect(command.contains(#"uv-0\.9\.26-py3-none-manylinux_2_17_x86_64"#))
    }
}
