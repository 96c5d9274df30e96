import Foundation
import Layers
import TestSupport
import Testing

@testable import CogEngine

/// `--gpus` and what it turns into: CDI specs (every version cog reads, JSON and YAML, malformed ones), device
/// selection, the hooks cog does itself, and the driver found without a spec (stand-in nodes and a linker cache
/// made by the real ldconfig).
@Suite struct GPUAccessTests {
    @Test(arguments: [
        ("all", GPURequest.all), ("2", .count(2)), ("-1", .all), ("device=1", .devices(["1"])),
        ("\"device=0,2\"", .devices(["0", "2"])), ("device=GPU-8f3a", .devices(["GPU-8f3a"])),
        ("count=3,capabilities=compute,utility", .count(3)), ("driver=nvidia,count=all", .all),
        ("capabilities=compute", .all),
    ])
    func gpusValuesReadAsDockerReadsThem(_ text: String, _ expected: GPURequest) throws {
        #expect(try GPURequest(parsing: text) == expected)
    }

    @Test(arguments: ["0", "many", "device=", "count=0", "driver=amd", "gpu=1"])
    func badGPUsValuesAreRefused(_ text: String) {
        #expect(throws: GPUError.self) { try GPURequest(parsing: text) }
    }

    /// A spec as nvidia-ctk writes it, in `version`, for devices 0 and 1 and `all`.
    static func spec(version: String = "0.8.0", kind: String = "nvidia.com/gpu", extra: String = "") -> String {
        """
        {"cdiVersion": "\(version)", "kind": "\(kind)",\(extra)
         "devices": [
           {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
           {"name": "1", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia1", "hostPath": "/host/nvidia1"}]}},
           {"name": "all", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}, {"path": "/dev/nvidia1"}]}}],
         "containerEdits": {
           "env": ["NVIDIA_VISIBLE_DEVICES=void"],
           "deviceNodes": [{"path": "/dev/nvidiactl"}, {"path": "/dev/nvidia-uvm", "type": "c"}],
           "mounts": [{"hostPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54", "containerPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54", "options": ["ro", "nosuid", "nodev", "bind"]},
                      {"hostPath": "/run/nvidia-persistenced/socket", "containerPath": "/run/nvidia-persistenced/socket", "options": ["nosuid", "nodev", "bind", "noexec"]}],
           "hooks": [{"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook", "args": ["nvidia-cdi-hook", "create-symlinks", "--link", "libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so"]},
                     {"hookName": "createContainer", "path": "/usr/bin/nvidia-ctk", "args": ["nvidia-ctk", "hook", "update-ldcache", "--folder", "/usr/lib/x86_64-linux-gnu"]},
                     {"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook", "args": ["nvidia-cdi-hook", "enable-cuda-compat", "--host-driver-version=550.54"]}]}}
        """
    }

    @Test(arguments: CDISpec.supportedVersions, ["json", "yaml"])
    func everyVersionReadsInJSONAndYAML(_ version: String, _ format: String) throws {
        let dir = try TemporaryDirectory("cdi")
        // A JSON document is YAML too; the YAML file goes through the project's libyaml parser.
        try dir.write("nvidia.\(format)", Self.spec(version: version))
        let registry = try CDIRegistry(directories: [dir.path])
        let edits = try #require(try registry.edits(for: .all))
        #expect(edits.summary == "nvidia.com/gpu=all from the CDI spec \(dir.path)/nvidia.\(format)")
        #expect(
            edits.devices.map(\.destination) == ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia0", "/dev/nvidia1"])
        #expect(edits.devices.allSatisfy { $0.device && !$0.readOnly })
        #expect(edits.mounts.map(\.readOnly) == [true, false])
        #expect(edits.environment == ["NVIDIA_VISIBLE_DEVICES=void"])
        #expect(edits.linkerFolders == ["/usr/lib/x86_64-linux-gnu"])
        #expect(edits.symlinks == [.init(target: "libcuda.so.1", link: "/usr/lib/x86_64-linux-gnu/libcuda.so")])
        #expect(edits.skippedHooks == ["enable-cuda-compat"])
    }

    @Test func aBlockStyleYAMLSpecReadsLikeItsJSON() throws {
        guard isRoot else { return }  // the stand-in's device nodes need mknod
        let gpu = try StandInGPU(gpus: 2, specFormat: "yaml")
        let yaml = try #require(try CDIRegistry(directories: [gpu.specDirectory]).edits(for: .all))
        try gpu.writeSpec(format: "json")
        let json = try #require(try CDIRegistry(directories: [gpu.specDirectory]).edits(for: .all))
        #expect(yaml.devices == json.devices && yaml.mounts == json.mounts && !yaml.devices.isEmpty)
        #expect(yaml.devices.first?.source == "\(gpu.dev)/nvidiactl")
    }

    @Test func devicesAreChosenByNameCountOrAll() throws {
        let dir = try TemporaryDirectory("cdi")
        try dir.write("nvidia.json", Self.spec())
        let registry = try CDIRegistry(directories: [dir.path])
        let one = try #require(try registry.edits(for: .devices(["1"])))
        #expect(one.devices.map(\.source) == ["/dev/nvidiactl", "/dev/nvidia-uvm", "/host/nvidia1"])
        let first = try #require(try registry.edits(for: .count(1)))
        #expect(first.devices.last?.destination == "/dev/nvidia0" && first.devices.count == 3)
        #expect(
            throws: GPUError.tooFewDevices(requested: 3, available: 2, source: "the CDI spec \(dir.path)/nvidia.json")
        ) {
            try registry.edits(for: .count(3))
        }
        do {
            _ = try registry.edits(for: .devices(["7"]))
            Issue.record("device 7 was found")
        } catch {
            #expect(
                error.description == "no GPU named 7 in the CDI spec \(dir.path)/nvidia.json (there: 0, 1, all)")
        }
        // Specs of other kinds are read but not used.
        let other = try TemporaryDirectory("cdi")
        try other.write("amd.json", Self.spec(kind: "amd.com/gpu"))
        #expect(try CDIRegistry(directories: [other.path]).edits(for: .all) == nil)
    }

    @Test func aLaterDirectoryReplacesAnEarlierOnesDeviceButOneDirectoryMayNotRepeatIt() throws {
        let (etc, run) = (try TemporaryDirectory("etc-cdi"), try TemporaryDirectory("run-cdi"))
        try etc.write("a.json", Self.spec())
        try run.write("b.json", Self.spec().replacingOccurrences(of: "/host/nvidia1", with: "/newer/nvidia1"))
        let edits = try #require(try CDIRegistry(directories: [etc.path, run.path]).edits(for: .devices(["1"])))
        #expect(edits.devices.last?.source == "/newer/nvidia1")
        try run.write("c.yaml", Self.spec())
        #expect(throws: GPUError.self) { try CDIRegistry(directories: [run.path]).edits(for: .all) }
    }

    @Test(arguments: [
        ("{\"cdiVersion\": \"0.8.0\", \"kind\": ", "not valid JSON", "json"),
        ("cdiVersion: \"0.8.0\"\nkind: [nvidia.com/gpu\n", "not valid YAML: 3:1", "yaml"),
        (spec(version: "0.2.0"), "cdiVersion 0.2.0 is not one cog reads (0.3.0–0.8.0)", "json"),
        (spec(version: "1.1.0"), "cdiVersion 1.1.0 is not one cog reads", "yaml"),
        (spec(kind: "gpu"), "kind \"gpu\" is not vendor/class", "json"),
        ("{\"cdiVersion\": \"0.6.0\", \"kind\": \"nvidia.com/gpu\", \"devices\": []}", "it defines no devices", "json"),
        (
            "{\"cdiVersion\": \"0.6.0\", \"kind\": \"nvidia.com/gpu\", \"devices\": [{\"name\": \"0\", \"containerEdits\": {\"deviceNodes\": [{\"path\": \"dev/x\"}]}}]}",
            "devices[0].containerEdits.deviceNodes[0].path \"dev/x\" is not absolute", "json"
        ),
        (
            "cdiVersion: \"0.6.0\"\nkind: nvidia.com/gpu\ndevices:\n  - containerEdits: {}\n",
            "devices[0].name is missing", "yml"
        ),
    ])
    func aMalformedSpecIsAnErrorNamingItsFile(_ text: String, _ problem: String, _ format: String) throws {
        let dir = try TemporaryDirectory("cdi")
        let file = try dir.write("broken.\(format)", text)
        do {
            _ = try CDIRegistry(directories: [dir.path])
            Issue.record("the spec was accepted")
        } catch {
            #expect(error.description.hasPrefix("CDI spec \(file): "), "\(error)")
            #expect(error.description.contains(problem), "\(error)")
            #expect(error.description.contains("nvidia-ctk cdi generate --output=\(file)"), "\(error)")
        }
    }

    @Test func theHooksRunAsAShellBeforeTheModel() throws {
        var edits = GPUEdits(summary: "test")
        edits.linkerFolders = ["/usr/lib/x86_64-linux-gnu"]
        edits.symlinks = [.init(target: "libcuda.so.1", link: "/usr/lib/x86_64-linux-gnu/libcuda.so")]
        edits.devices = [.init(source: "/dev/nvidia0", destination: "/dev/nvidia0", readOnly: false, device: true)]
        edits.environment = ["NVIDIA_VISIBLE_DEVICES=void"]
        let step = edits.apply(
            to: StepRunner.Step(command: ["/sbin/tini", "--", "python"], environment: ["NVIDIA_VISIBLE_DEVICES=all"]))
        #expect(
            step.command.prefix(2) == ["/bin/sh", "-c"]
                && step.command.suffix(4) == ["cog-gpu-setup", "/sbin/tini", "--", "python"])
        let script = step.command[2]
        #expect(script.contains("printf '%s\\n' /usr/lib/x86_64-linux-gnu > /etc/ld.so.conf.d/00-cog-gpu.conf"))
        #expect(script.contains("ln -sfn libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so"))
        #expect(script.hasSuffix("exec \"$@\""))
        #expect(step.environment == ["NVIDIA_VISIBLE_DEVICES=void"])
        #expect(step.mounts == edits.devices)
        // Nothing to set up: the command stays as it is.
        #expect(GPUEdits(summary: "").apply(to: StepRunner.Step(command: ["x"], environment: [])).command == ["x"])
    }
}
