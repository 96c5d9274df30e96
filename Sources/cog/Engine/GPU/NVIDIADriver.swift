import Foundation
import Layers

/// The NVIDIA driver of a machine without a CDI spec, found as nvidia-container-cli finds it: device nodes in
/// /dev, the compute and utility libraries in the dynamic linker's cache, the driver's programs on `PATH`. The
/// libraries are given under /usr/local/nvidia/lib64, which Cog's images (and nvidia/cuda's) have on
/// `LD_LIBRARY_PATH`.
struct NVIDIADriver: Sendable {
    /// Where the libraries appear in the sandbox.
    static let libraryFolder = "/usr/local/nvidia/lib64"
    /// Compute and utility libraries (libnvidia-container's `nvc_info.c` lists), by soname prefix.
    static let libraries = [
        "libcuda.so", "libcudadebugger.so", "libnvidia-ml.so", "libnvidia-cfg.so", "libnvidia-nscq.so",
        "libnvidia-ptxjitcompiler.so", "libnvidia-fatbinaryloader.so", "libnvidia-allocator.so",
        "libnvidia-compiler.so", "libnvidia-nvvm.so", "libnvidia-opencl.so", "libnvidia-gpucomp.so",
        "libnvidia-pkcs11.so", "libnvidia-pkcs11-openssl3.so",
    ]
    static let programs = [
        "nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server",
    ]
    /// Nodes every GPU needs (nvidia-modeset only for display work; it is given when present).
    static let controlNodes = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"]

    let settings: GPUSettings
    /// GPU indices with a node (`/dev/nvidia0` → 0), ascending.
    let indices: [Int]
    let libraries: [LinkerCache.Entry]

    /// Looks for the driver; the reason when there is none.
    static func find(_ settings: GPUSettings) -> Result<NVIDIADriver, Unavailable> {
        let dev = settings.deviceDirectory
        guard isCharacterDevice("\(dev)/nvidiactl") else {
            return .failure(Unavailable("no NVIDIA driver: \(dev)/nvidiactl is missing"))
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dev)) ?? []
        let indices = names.compactMap { name -> Int? in
            guard name.hasPrefix("nvidia"), let index = Int(name.dropFirst(6)) else { return nil }
            return isCharacterDevice("\(dev)/\(name)") ? index : nil
        }.sorted()
        guard !indices.isEmpty else { return .failure(Unavailable("the NVIDIA driver has no GPU node in \(dev)")) }
        guard let cache = LinkerCache(file: settings.linkerCache) else {
            return .failure(Unavailable("cannot read the dynamic linker's cache \(settings.linkerCache)"))
        }
        var seen = Set<String>()
        let libraries = cache.entries.filter { entry in
            Self.libraries.contains { entry.soname.hasPrefix($0) } && seen.insert(entry.soname).inserted
        }
        guard libraries.contains(where: { $0.soname.hasPrefix("libcuda.so") }) else {
            return .failure(
                Unavailable("the NVIDIA driver's libcuda.so.1 is not in \(settings.linkerCache) (run ldconfig)"))
        }
        return .success(NVIDIADriver(settings: settings, indices: indices, libraries: libraries))
    }

    /// The edits for `request`.
    func edits(for request: GPURequest) throws(GPUError) -> GPUEdits {
        let dev = settings.deviceDirectory
        let chosen: [Int]
        switch request {
        case .all:
            chosen = indices
        case .count(let number):
            guard number <= indices.count else {
                throw .tooFewDevices(requested: number, available: indices.count, source: "\(dev)")
            }
            chosen = Array(indices.prefix(number))
        case .devices(let names):
            var wanted: [Int] = []
            for name in names {
                guard let index = Int(name) else { throw .uuidWithoutSpec(name) }
                wanted.append(index)
            }
            let missing = wanted.filter { !indices.contains($0) }
            guard missing.isEmpty else {
                throw .unknownDevices(missing.map(String.init), available: indices.map(String.init), source: dev)
            }
            chosen = wanted
        }
        var edits = GPUEdits(
            summary:
                "GPU \(chosen.map(String.init).joined(separator: ", ")) of the NVIDIA driver (\(dev), \(libraries.count) libraries from \(settings.linkerCache); no CDI spec)"
        )
        let nodes = Self.controlNodes.filter { Self.isCharacterDevice("\(dev)/\($0)") } + chosen.map { "nvidia\($0)" }
        edits.devices = nodes.map {
            .init(source: "\(dev)/\($0)", destination: "/dev/\($0)", readOnly: false, device: true)
        }
        // The cache names the soname's link; its target (libcuda.so.535.104.05) is bound under the soname.
        edits.mounts = libraries.map {
            .init(source: Self.resolved($0.path), destination: "\(Self.libraryFolder)/\($0.soname)", readOnly: true)
        }
        for program in Self.programs {
            if let path = settings.searchPath.split(separator: ":").map({ "\($0)/\(program)" }).first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            }) {
                edits.mounts.append(.init(source: path, destination: "/usr/bin/\(program)", readOnly: true))
            }
        }
        // As nvidia-container-cli runs ldconfig in the container: images without LD_LIBRARY_PATH find them too.
        edits.linkerFolders = [Self.libraryFolder]
        return edits
    }

    /// Why `/dev/nvidia-uvm` matters, when it is missing (torch then says "CUDA unknown error").
    var missingUVMNote: String? {
        Self.isCharacterDevice("\(settings.deviceDirectory)/nvidia-uvm")
            ? nil
            : "\(settings.deviceDirectory)/nvidia-uvm is missing: CUDA will fail (\"CUDA unknown error\") until root loads the module with nvidia-modprobe -c0 -u"
    }

    /// `path` with every symbolic link resolved (itself when it cannot be).
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    static func isCharacterDevice(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR
    }

    /// Why no driver could be used.
    struct Unavailable: Error, Sendable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
