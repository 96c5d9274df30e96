import Foundation
import OCI
import TestSupport
import Testing

/// A `gpu: true` model built on an nvidia/cuda base, every step run for real: apt on the base (which has no
/// Python), uv's wheel from PyPI, `uv python install` from a mirror this test serves (a python-build-standalone
/// stand-in with uv's list of builds, since GitHub is out of reach), the cog runtime with uv; then predictions on
/// CPU and through the stand-in GPU.
@Suite(.serialized) struct CUDABaseTests {
    static var cog: String { PipelineTests.cog }

    @Test func aGPUModelBuildsOnTheCUDABaseAndPredicts() throws {
        guard isRoot, commandExists("gcc") else { return }
        let dir = try TemporaryDirectory("cuda-base")
        try dir.write(
            "model/cog.yaml",
            "build:\n  gpu: true\n  cuda: \"12.4\"\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
        try dir.write("model/predict.py", GPUPredictTests.predictor)
        let project = "\(dir.path)/model"

        // MARK: the base cog chooses, as the stand-in, in a loopback registry standing for Docker Hub
        let debug = try runCommand([Self.cog, "debug"], directory: project)
        let from = try #require(debug.stdout.split(separator: "\n").first { $0.hasPrefix("FROM ") }).dropFirst(5)
        #expect(from == "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04", "\(debug.output)")
        let registry = try TestRegistry()
        let push = try runCommand([
            "\(packageRoot)/scripts/make-cuda-base-image.sh", "push", try TestCUDABaseImage.ensure(), registry.address,
            String(from),
        ])
        #expect(push.status == 0, "\(push.output)")

        // MARK: uv's Python mirror on the loopback
        let mirror = try BackgroundProcess(
            ["python3", "\(packageRoot)/testdata/gpu/mirror-server.py", try TestPythonBuild.ensure(), "{DIR}"],
            label: "python-mirror")
        let url = "http://127.0.0.1:\(mirror.port)"
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
            "UV_PYTHON_INSTALL_MIRROR": url, "UV_PYTHON_DOWNLOADS_JSON_URL": "\(url)/download-metadata.json",
        ]

        // MARK: build: --network host, because the mirror is a loopback service (the default network keeps
        // steps away from those); the Debian mirror and PyPI are reached as from any step.
        let build = try runCommand(
            [Self.cog, "build", "-t", "cuda-model", "--network", "host", "--progress", "plain"],
            environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(4000))")
        #expect(build.stderr.contains("Installed Python 3.11.2"), "\(build.stderr.suffix(4000))")
        #expect(
            mirror.log.contains {
                $0.hasPrefix("GET /cog-test/cpython-3.11.2%2Bcog-test-x86_64-unknown-linux-gnu-install_only.tar.gz 200")
            }, "\(mirror.log)")
        let image = try OCILayout.open("\(dir.path)/cache/images").image(named: "cuda-model")
        let env = image.configuration.config?.env ?? []
        #expect(env.contains("CUDA_VERSION=12.4.1") && env.contains { $0.hasPrefix("PATH=/usr/local/bin:") })
        #expect(env.contains { $0.hasPrefix("LD_LIBRARY_PATH=") && $0.contains("/usr/local/nvidia/lib64") })
        #expect(image.configuration.config?.labels?["run.cog.pip_freeze"]?.contains("cog==") == true)

        // MARK: on CPU, with one warning
        let gpu = try StandInGPU(gpus: 1)
        let cpu = try runCommand(
            [Self.cog, "predict", "cuda-model"],
            environment: environment.merging([
                "COG_CDI_SPEC_DIRS": gpu.emptyDirectory, "COG_NVIDIA_DEV_DIR": gpu.emptyDirectory,
            ]) { $1 }, directory: project)
        #expect(cpu.status == 0, "\(cpu.output.suffix(3000))")
        #expect(cpu.stdout.hasPrefix("cpu (libcuda.so.1: cannot open shared object file"), "\(cpu.output.suffix(3000))")
        #expect(cpu.stderr.contains("warning: no GPU for the model (--gpus all):"), "\(cpu.stderr)")

        // MARK: through the stand-in GPU
        let onGPU = try runCommand(
            [Self.cog, "predict", "cuda-model"],
            environment: environment.merging(["COG_CDI_SPEC_DIRS": gpu.specDirectory]) { $1 }, directory: project)
        #expect(onGPU.status == 0, "\(onGPU.output.suffix(3000))")
        #expect(
            onGPU.stdout.hasPrefix("gpus=1; names=Stand-in GPU on /dev/nvidia0; visible=void; link=libcuda.so.1;"),
            "\(onGPU.output.suffix(3000))")
    }
}
