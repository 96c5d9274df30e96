import CSupport
import Foundation

/// A GPU for machines without one, made by the test (root only: device nodes need mknod):
/// - the driver: `testdata/gpu/libcuda.c` compiled with gcc as `libcuda.so.123.45` (soname libcuda.so.1), and a
///   `libnvidia-ml` beside it, in `driver/` with the soname links ldconfig makes;
/// - device nodes in `dev/` (`nvidiactl`, `nvidia-uvm`, `nvidia-uvm-tools`, `nvidia0`…): character devices with
///   /dev/null's numbers, mode 0666 as NVIDIA's are;
/// - `cdi/nvidia.json` or `.yaml`: a CDI spec as `nvidia-ctk cdi generate` writes one (devices by index and
///   `all`, the library bound at its versioned path, `update-ldcache` and `create-symlinks` hooks), pointing at
///   these nodes through `hostPath`;
/// - `ld.so.cache`: a linker cache made by the real `ldconfig -C` over `driver/`, and `bin/nvidia-smi`, for the
///   path without a spec.
/// Everything is world-readable so that other users' cog can use it.
public final class StandInGPU: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let count: Int
    /// Where the spec puts the library in the container: a folder on no loader path, so that only the
    /// `update-ldcache` hook makes it loadable.
    public static let containerLibraryFolder = "/usr/lib/cog-test-driver"

    public var dev: String { "\(directory.path)/dev" }
    public var driver: String { "\(directory.path)/driver" }
    public var specDirectory: String { "\(directory.path)/cdi" }
    public var emptyDirectory: String { "\(directory.path)/empty" }
    public var linkerCache: String { "\(directory.path)/ld.so.cache" }
    public var programs: String { "\(directory.path)/bin" }

    public init(gpus count: Int = 2, specFormat: String = "json") throws {
        self.count = count
        directory = try TemporaryDirectory("standin-gpu")
        for folder in [dev, driver, specDirectory, emptyDirectory, programs] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        for (name, soname) in [("libcuda.so.123.45", "libcuda.so.1"), ("libnvidia-ml.so.123.45", "libnvidia-ml.so.1")] {
            let compile = try runCommand([
                "gcc", "-shared", "-fPIC", "-O1", "-Wl,-soname,\(soname)", "-o", "\(driver)/\(name)",
                "\(packageRoot)/testdata/gpu/libcuda.c",
            ])
            guard compile.status == 0 else { throw TestSetupError("gcc: \(compile.output)") }
        }
        for node in ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"] + (0..<count).map({ "nvidia\($0)" }) {
            guard cog_mknod_at(AT_FDCWD, "\(dev)/\(node)", S_IFCHR | 0o666, 1, 3) == 0 else {
                throw TestSetupError("mknod \(dev)/\(node): \(String(cString: strerror(errno)))")
            }
            chmod("\(dev)/\(node)", 0o666)
        }
        try directory.write("ld.so.conf", "\(driver)\n")
        let ldconfig = try runCommand(["ldconfig", "-C", linkerCache, "-f", "\(directory.path)/ld.so.conf"])
        guard ldconfig.status == 0 else { throw TestSetupError("ldconfig -C: \(ldconfig.output)") }
        try directory.write("bin/nvidia-smi", "#!/bin/sh\necho 'NVIDIA-SMI stand-in: \(count) GPUs'\n", mode: 0o755)
        try writeSpec(format: specFormat)
        _ = try runCommand(["chmod", "-R", "a+rX", directory.path])
    }

    /// Writes the CDI spec (replacing any other) as JSON or YAML.
    public func writeSpec(format: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: specDirectory)) ?? [] {
            try FileManager.default.removeItem(atPath: "\(specDirectory)/\(name)")
        }
        let library = "\(Self.containerLibraryFolder)/libcuda.so.123.45"
        let common: [String: Any] = [
            "env": ["NVIDIA_VISIBLE_DEVICES=void"],
            "deviceNodes": ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"].map {
                ["path": "/dev/\($0)", "hostPath": "\(dev)/\($0)"]
            },
            "mounts": [
                [
                    "hostPath": "\(driver)/libcuda.so.123.45", "containerPath": library,
                    "options": ["ro", "nosuid", "nodev", "bind"],
                ]
            ],
            "hooks": [
                [
                    "hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook",
                    "args": [
                        "nvidia-cdi-hook", "create-symlinks", "--link",
                        "libcuda.so.1::\(Self.containerLibraryFolder)/libcuda.so",
                    ],
                ],
                [
                    "hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook",
                    "args": ["nvidia-cdi-hook", "update-ldcache", "--folder", Self.containerLibraryFolder],
                ],
                [
                    "hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook",
                    "args": ["nvidia-cdi-hook", "enable-cuda-compat", "--host-driver-version=123.45"],
                ],
            ],
        ]
        let node = { (index: Int) -> [String: Any] in
            ["path": "/dev/nvidia\(index)", "hostPath": "\(self.dev)/nvidia\(index)"]
        }
        var devices: [[String: Any]] = (0..<count).map {
            ["name": "\($0)", "containerEdits": ["deviceNodes": [node($0)]]]
        }
        devices.append(["name": "all", "containerEdits": ["deviceNodes": (0..<count).map(node)]])
        let spec: [String: Any] = [
            "cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": devices, "containerEdits": common,
        ]
        let json = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
        if format == "json" {
            try json.write(to: URL(fileURLWithPath: "\(specDirectory)/nvidia.json"))
        } else {
            // JSON is YAML's flow style, but a spec in block style is what nvidia-ctk writes by default.
            try directory.write("cdi/nvidia.yaml", Self.yaml(spec))
        }
        _ = try runCommand(["chmod", "-R", "a+rX", specDirectory])
    }

    /// `value` in YAML block style, strings double-quoted.
    static func yaml(_ value: Any, indent: String = "") -> String {
        if let object = value as? [String: Any] {
            return object.keys.sorted().map { key in
                let item = object[key]!
                if item is [String: Any] || item is [Any] {
                    return "\(indent)\(key):\n" + yaml(item, indent: indent + "  ")
                }
                return "\(indent)\(key): \(yaml(item))\n"
            }.joined()
        }
        if let items = value as? [Any] {
            return items.map { item in
                if item is [String: Any] || item is [Any] {
                    let body = yaml(item, indent: indent + "  ")
                    return "\(indent)- " + body.dropFirst(indent.count + 2)
                }
                return "\(indent)- \(yaml(item))\n"
            }.joined()
        }
        let text = "\(value)".replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(text)\""
    }
}
