import Foundation
import Layers

/// The CDI specs of this machine (every `*.json`, `*.yaml` and `*.yml` in the spec directories) and the devices of
/// one kind in them, as podman and containerd read them.
public struct CDIRegistry: Sendable {
    /// The kind cog asks for.
    public static let gpuKind = "nvidia.com/gpu"

    public let specs: [CDISpec]

    /// Reads every spec in `directories` (missing directories are skipped).
    /// - Throws: `GPUError.malformedSpec` for the first spec that cannot be used, naming its file.
    public init(directories: [String]) throws(GPUError) {
        var specs: [CDISpec] = []
        for directory in directories {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            for name in names where [".json", ".yaml", ".yml"].contains(where: name.hasSuffix) {
                specs.append(try CDISpec.load(file: "\(directory)/\(name)"))
            }
        }
        self.specs = specs
    }

    /// The devices of `kind` by name, a later directory's replacing an earlier one's (the CDI library's
    /// priority); two specs of one directory defining one name are an error.
    func devices(of kind: String) throws(GPUError) -> [String: (spec: CDISpec, device: CDISpec.Device)] {
        var found: [String: (spec: CDISpec, device: CDISpec.Device)] = [:]
        for spec in specs where spec.kind == kind {
            for device in spec.devices {
                if let earlier = found[device.name],
                    Self.directory(of: earlier.spec.file) == Self.directory(of: spec.file)
                {
                    throw .duplicateDevice(name: "\(kind)=\(device.name)", files: [earlier.spec.file, spec.file])
                }
                found[device.name] = (spec, device)
            }
        }
        return found
    }

    /// The edits for `request`, or nil when no spec has a device of `nvidia.com/gpu`.
    /// - Throws: `GPUError` when the request names devices the specs do not have, or more than there are.
    public func edits(for request: GPURequest) throws(GPUError) -> GPUEdits? {
        let devices = try devices(of: Self.gpuKind)
        guard !devices.isEmpty else { return nil }
        let files = Array(Set(devices.values.map(\.spec.file))).sorted()
        let source = "the CDI spec\(files.count == 1 ? "" : "s") \(files.joined(separator: ", "))"
        // Per-GPU names: the "all" device nvidia-ctk adds repeats them.
        let single = devices.keys.filter { $0 != "all" }.sorted(by: Self.indexOrder)
        let chosen: [String]
        switch request {
        case .all:
            chosen = devices["all"] != nil ? ["all"] : single
        case .count(let number):
            // nvidia-ctk names GPUs by index (and by UUID with --device-name-strategy): count indices first.
            let indices = single.filter { Int($0) != nil }
            let pool = indices.isEmpty ? single : indices
            guard number <= pool.count else {
                throw .tooFewDevices(requested: number, available: pool.count, source: source)
            }
            chosen = Array(pool.prefix(number))
        case .devices(let names):
            let missing = names.filter { devices[$0] == nil }
            guard missing.isEmpty else {
                throw .unknownDevices(missing, available: devices.keys.sorted(by: Self.indexOrder), source: source)
            }
            chosen = names
        }
        var edits = GPUEdits(
            summary: "\(chosen.map { "\(Self.gpuKind)=\($0)" }.joined(separator: ", ")) from \(source)")
        var specsApplied = Set<String>()
        for name in chosen {
            guard let (spec, device) = devices[name] else { continue }
            if specsApplied.insert(spec.file).inserted { edits.merge(Self.edits(spec.containerEdits)) }
            edits.merge(Self.edits(device.containerEdits))
        }
        return edits
    }

    /// One spec's container edits as cog applies them.
    static func edits(_ edits: CDISpec.ContainerEdits) -> GPUEdits {
        var result = GPUEdits(summary: "")
        result.environment = edits.env
        // mknod is impossible in a user namespace: the host's node is bound (as rootless podman does).
        result.devices = edits.deviceNodes.filter { $0.type != "b" }.map {
            .init(source: $0.hostPath ?? $0.path, destination: $0.path, readOnly: false, device: true)
        }
        result.mounts = edits.mounts.filter { $0.type == nil || $0.type == "bind" || $0.options.contains("bind") }.map {
            .init(source: $0.hostPath, destination: $0.containerPath, readOnly: $0.readOnly)
        }
        for hook in edits.hooks {
            let arguments = hook.args.isEmpty ? [hook.path] : hook.args
            // nvidia-cdi-hook NAME … (toolkit ≥ 1.17) or nvidia-ctk hook NAME … (before).
            let nameIndex = arguments.firstIndex { ["update-ldcache", "create-symlinks"].contains($0) }
            switch nameIndex.map({ arguments[$0] }) {
            case "update-ldcache":
                result.linkerFolders += Self.values(of: "--folder", in: arguments)
            case "create-symlinks":
                for pair in Self.values(of: "--link", in: arguments) {
                    let parts = pair.components(separatedBy: "::")
                    if parts.count == 2 { result.symlinks.append(.init(target: parts[0], link: parts[1])) }
                }
            default:
                let named = arguments.dropFirst().first { !$0.hasPrefix("-") && $0 != "hook" } ?? hook.path
                result.skippedHooks.append(named)
            }
        }
        return result
    }

    /// The values of a repeatable option, given as `--name value` or `--name=value`.
    static func values(of option: String, in arguments: [String]) -> [String] {
        var result: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == option, index + 1 < arguments.endIndex {
                result.append(arguments[index + 1])
                index += 1
            } else if argument.hasPrefix(option + "=") {
                result.append(String(argument.dropFirst(option.count + 1)))
            }
            index += 1
        }
        return result
    }

    /// Numbers in numeric order, before names.
    static func indexOrder(_ lhs: String, _ rhs: String) -> Bool {
        switch (Int(lhs), Int(rhs)) {
        case (let left?, let right?): return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        default: return lhs < rhs
        }
    }

    private static func directory(of file: String) -> String { (file as NSString).deletingLastPathComponent }
}
