import Foundation

/// What a model asking for GPUs gets on this machine: the edits that give them, or why it runs on CPU (Cog
/// retries without GPUs when Docker finds no driver; cog says so in one line).
public enum GPUAccess: Sendable, Equatable {
    /// The edits, and what the user should fix (a missing /dev/nvidia-uvm).
    case granted(GPUEdits, warnings: [String])
    case unavailable(reason: String)

    /// Finds the GPUs for `request`: from the CDI specs when any has a `nvidia.com/gpu` device, else from the
    /// driver itself (nodes, linker cache, programs).
    /// - Throws: `GPUError` for a malformed spec, or devices asked for by name or count that are not there.
    public static func find(_ request: GPURequest, settings: GPUSettings) throws(GPUError) -> GPUAccess {
        let registry = try CDIRegistry(directories: settings.specDirectories)
        if let edits = try registry.edits(for: request) {
            try checkNodes(edits)
            return .granted(edits, warnings: [])
        }
        switch NVIDIADriver.find(settings) {
        case .success(let driver):
            let edits = try driver.edits(for: request)
            return .granted(edits, warnings: [driver.missingUVMNote].compactMap { $0 })
        case .failure(let unavailable):
            let specs = settings.specDirectories.joined(separator: ", ")
            let what =
                registry.specs.isEmpty
                ? "no CDI spec in \(specs)" : "no \(CDIRegistry.gpuKind) device in the CDI specs of \(specs)"
            return .unavailable(reason: "\(what) and \(unavailable.reason)")
        }
    }

    /// Device nodes a spec names that the host lacks: the sandbox could not bind them. /dev/nvidia-uvm appears
    /// only once its module is loaded, which a machine that never ran CUDA as root may not have done.
    private static func checkNodes(_ edits: GPUEdits) throws(GPUError) {
        if let node = edits.devices.first(where: { !NVIDIADriver.isCharacterDevice($0.source) }) {
            throw .missingDeviceNode(path: node.source, source: edits.summary)
        }
    }
}
