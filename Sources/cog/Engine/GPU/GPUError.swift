/// Why GPUs could not be given to a model as asked, in words a person acts on.
public enum GPUError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--gpus` could not be read.
    case badRequest(String, String)
    /// A CDI spec that cannot be used: the file and what is wrong in it.
    case malformedSpec(file: String, problem: String)
    /// Two specs of one directory define the same device.
    case duplicateDevice(name: String, files: [String])
    /// `--gpus device=…` names a device that no spec (or no driver node) has.
    case unknownDevices([String], available: [String], source: String)
    /// `--gpus N` asks for more GPUs than there are.
    case tooFewDevices(requested: Int, available: Int, source: String)
    /// `--gpus device=GPU-…` without a CDI spec: without NVML cog knows GPUs by index only.
    case uuidWithoutSpec(String)
    /// A spec names a device node the host does not have (the sandbox could not bind it).
    case missingDeviceNode(path: String, source: String)

    public var description: String {
        switch self {
        case .badRequest(let value, let problem):
            return "--gpus \(value): \(problem) (as Docker: all, 2, device=0,1)"
        case .malformedSpec(let file, let problem):
            return
                "CDI spec \(file): \(problem); fix or remove the file (NVIDIA's toolkit writes a valid one: nvidia-ctk cdi generate --output=\(file))"
        case .duplicateDevice(let name, let files):
            return
                "the CDI device \(name) is defined in both \(files.joined(separator: " and ")); remove one of the specs"
        case .unknownDevices(let names, let available, let source):
            return
                "no GPU named \(names.joined(separator: ", ")) in \(source) (there: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case .tooFewDevices(let requested, let available, let source):
            return "--gpus \(requested) asks for \(requested) GPUs, but \(source) has \(available)"
        case .missingDeviceNode(let path, let source):
            let fix =
                path.hasSuffix("nvidia-uvm") || path.hasSuffix("nvidia-uvm-tools")
                ? "the nvidia-uvm module is not loaded: run nvidia-modprobe -c0 -u as root (torch otherwise fails with \"CUDA unknown error\")"
                : "regenerate the spec with nvidia-ctk cdi generate"
            return "\(source) names the device node \(path), which this machine does not have; \(fix)"
        case .uuidWithoutSpec(let name):
            return
                "--gpus device=\(name): without a CDI spec cog knows GPUs by index only (device=0); generate one with nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml"
        }
    }
}
