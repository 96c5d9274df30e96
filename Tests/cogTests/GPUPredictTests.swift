import Foundation
import TestSupport
import Testing

/// GPUs through `cog predict` on a machine without one: a stand-in driver, device nodes and CDI spec
/// (`StandInGPU`), and a model whose predict.py loads libcuda.so.1 with ctypes and reports what the driver sees.
/// As root and rootless (the subordinate-range user and nobody, after `cog pull`), from a CDI spec and from the
/// driver found without one, and on CPU with one warning when there is neither.
@Suite(.serialized) struct GPUPredictTests {
    static var cog: String { PipelineTests.cog }

    static let predictor = """
        import ctypes, os, shutil, subprocess
        from cog import BasePredictor

        class Predictor(BasePredictor):
            def predict(self) -> str:
                try:
                    cuda = ctypes.CDLL("libcuda.so.1")
                except OSError as error:
                    return f"cpu ({error})"
                status = cuda.cuInit(0)
                if status != 0:
                    return f"cuInit failed: {status}"
                count = ctypes.c_int()
                cuda.cuDeviceGetCount(ctypes.byref(count))
                names = []
                for index in range(count.value):
                    name = ctypes.create_string_buffer(128)
                    cuda.cuDeviceGetName(name, 128, index)
                    names.append(name.value.decode())
                link = "/usr/lib/cog-test-driver/libcuda.so"
                nvidia = "/usr/local/nvidia/lib64"
                smi = subprocess.run(["nvidia-smi"], capture_output=True, text=True).stdout.strip() if shutil.which("nvidia-smi") else "-"
                return "; ".join([f"gpus={count.value}", "names=" + ",".join(names),
                                  "visible=" + os.environ.get("NVIDIA_VISIBLE_DEVICES", "-"),
                                  "link=" + (os.readlink(link) if os.path.islink(link) else "-"),
                                  "lib64=" + (",".join(sorted(os.listdir(nvidia))) if os.path.isdir(nvidia) else "-"),
                                  "smi=" + smi])
        """

    /// The model: `gpu: true` (so predict asks for every GPU), built on the python base.
    static func project(in dir: TemporaryDirectory) throws -> String {
        try dir.write(
            "model/cog.yaml", "build:\n  gpu: true\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n")
        try dir.write("model/predict.py", predictor)
        return "\(dir.path)/model"
    }

    static func names(_ indices: [Int]) -> String {
        "names=" + indices.map { "Stand-in GPU on /dev/nvidia\($0)" }.joined(separator: ",")
    }

    @Test func aBadGPUsValueIsRefusedBeforeAnythingRuns() throws {
        let result = try runCommand([Self.cog, "predict", "some-image", "--gpus", "0"])
        #expect(result.status == 64, "\(result.output)")
        #expect(
            result.stderr.contains("--gpus 0: a count must be 1 or more (as Docker: all, 2, device=0,1)"),
            "\(result.stderr)")
    }

    @Test func aModelSeesTheGPUsAsRootAndRootless() throws {
        guard isRoot, commandExists("gcc"), commandExists("setpriv") else { return }
        let registry = try PipelineTests.registryWithBase()
        let gpu = try StandInGPU(gpus: 2)
        let dir = try TemporaryDirectory("gpu-predict")
        let project = try Self.project(in: dir)
        let base = ["COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache"]
        let withSpec = base.merging(["COG_CDI_SPEC_DIRS": gpu.specDirectory]) { $1 }

        // MARK: build (python base: the CUDA base has a test of its own)
        let build = try runCommand(
            [
                Self.cog, "build", "-t", "gpu-model", "--use-cuda-base-image=false", "--oci-out", "\(dir.path)/out",
                "--progress", "plain",
            ], environment: base, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")

        // MARK: CDI spec, every GPU (gpu: true asks for all)
        let all = try runCommand([Self.cog, "predict", "gpu-model"], environment: withSpec, directory: project)
        #expect(all.status == 0, "\(all.output.suffix(3000))")
        #expect(
            all.stdout
                == "gpus=2; \(Self.names([0, 1])); visible=void; link=libcuda.so.1; lib64=-; smi=-\n",
            "\(all.output.suffix(3000))")
        #expect(all.stderr.contains("GPUs: nvidia.com/gpu=all from the CDI spec \(gpu.specDirectory)/nvidia.json"))
        #expect(
            all.stderr.contains(
                "CDI hooks left out (cog does the work of update-ldcache and create-symlinks only): enable-cuda-compat")
        )

        // MARK: cog run: the same GPUs for a command (after the same setup in the sandbox)
        let run = try runCommand(
            [
                Self.cog, "run", "--image", "gpu-model", "--gpus", "1", "python", "-c",
                "import ctypes; cuda = ctypes.CDLL('libcuda.so.1'); n = ctypes.c_int(); print('cuInit', cuda.cuInit(0), cuda.cuDeviceGetCount(ctypes.byref(n)), n.value)",
            ], environment: withSpec, directory: project)
        #expect(run.stdout.hasSuffix("cuInit 0 0 1\n"), "\(run.output.suffix(2000))")

        // MARK: one device by name, from a YAML spec
        try gpu.writeSpec(format: "yaml")
        let one = try runCommand(
            [Self.cog, "predict", "gpu-model", "--gpus", "device=1"], environment: withSpec, directory: project)
        #expect(one.stdout.hasPrefix("gpus=1; \(Self.names([1])); visible=void;"), "\(one.output.suffix(3000))")
        let unknown = try runCommand(
            [Self.cog, "predict", "gpu-model", "--gpus", "device=7"], environment: withSpec, directory: project)
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr.contains(
                "error: no GPU named 7 in the CDI spec \(gpu.specDirectory)/nvidia.yaml (there: 0, 1, all)"),
            "\(unknown.stderr)")

        // MARK: no spec: the driver's nodes, libraries (linker cache) and nvidia-smi
        let driver = base.merging([
            "COG_CDI_SPEC_DIRS": gpu.emptyDirectory, "COG_NVIDIA_DEV_DIR": gpu.dev,
            "COG_NVIDIA_LD_CACHE": gpu.linkerCache,
            "PATH": "\(gpu.programs):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")",
        ]) { $1 }
        let found = try runCommand(
            [Self.cog, "predict", "gpu-model", "--gpus", "1"], environment: driver, directory: project)
        #expect(
            found.stdout
                == "gpus=1; \(Self.names([0])); visible=-; link=-; lib64=libcuda.so.1,libnvidia-ml.so.1; smi=NVIDIA-SMI stand-in: 2 GPUs\n",
            "\(found.output.suffix(3000))")
        #expect(found.stderr.contains("GPUs: GPU 0 of the NVIDIA driver (\(gpu.dev), 2 libraries"), "\(found.stderr)")

        // MARK: neither: one warning, and the model runs on CPU
        let cpu = try runCommand(
            [Self.cog, "predict", "gpu-model"],
            environment: base.merging([
                "COG_CDI_SPEC_DIRS": gpu.emptyDirectory, "COG_NVIDIA_DEV_DIR": gpu.emptyDirectory,
            ]) {
                $1
            }, directory: project)
        #expect(cpu.status == 0, "\(cpu.output.suffix(3000))")
        #expect(cpu.stdout.hasPrefix("cpu (libcuda.so.1: cannot open shared object file"), "\(cpu.stdout)")
        let warnings = cpu.stderr.split(separator: "\n").filter { $0.contains("warning") }
        #expect(
            warnings == [
                "warning: no GPU for the model (--gpus all): no CDI spec in \(gpu.emptyDirectory) and no NVIDIA driver: \(gpu.emptyDirectory)/nvidiactl is missing; running on CPU"
            ], "\(cpu.stderr)")

        // MARK: a malformed spec stops with its name
        let broken = try TemporaryDirectory("broken-cdi")
        try broken.write("nvidia.yaml", "cdiVersion: \"0.8.0\"\nkind: nvidia.com/gpu\ndevices: [\n")
        let refused = try runCommand(
            [Self.cog, "predict", "gpu-model"], environment: base.merging(["COG_CDI_SPEC_DIRS": broken.path]) { $1 },
            directory: project)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("error: CDI spec \(broken.path)/nvidia.yaml: not valid YAML"), "\(refused.stderr)")

        // MARK: rootless: the image pulled by other users, who predict with the same GPUs
        let target = "\(registry.address)/gpu/model:v1"
        let push = try runCommand(
            [Self.cog, "push", "--oci-layout", "\(dir.path)/out", target], environment: base, directory: project)
        #expect(push.status == 0, "\(push.output.suffix(2000))")
        for user in ["cog-subid-test", "nobody"] {
            let home = try TemporaryDirectory("gpu-\(user)")
            let copy = try copyForOtherUsers(executable: Self.cog, in: home)
            let prefix: [String]
            if user == "nobody" {
                _ = try runCommand(["chown", "-R", "nobody:nogroup", home.path])
                prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(home.path)"]
            } else {
                guard commandExists("newuidmap") else { continue }
                let (uid, gid) = try SubordinateIDUser.ensure()
                _ = try runCommand(["chown", "-R", "\(uid):\(gid)", home.path])
                prefix = try SubordinateIDUser.command(home: home.path)
            }
            let settings = ["COG_CACHE_DIR=\(home.path)/cache", "COG_CDI_SPEC_DIRS=\(gpu.specDirectory)"]
            let pull = try runCommand(prefix + settings + [copy, "pull", target], directory: home.path)
            #expect(pull.status == 0, "\(user): \(pull.output.suffix(2000))")
            let predict = try runCommand(prefix + settings + [copy, "predict", target], directory: home.path)
            #expect(predict.status == 0, "\(user): \(predict.output.suffix(3000))")
            #expect(
                predict.stdout.hasPrefix("gpus=2; \(Self.names([0, 1])); visible=void; link=libcuda.so.1;"),
                "\(user): \(predict.output.suffix(3000))")
        }
    }
}
