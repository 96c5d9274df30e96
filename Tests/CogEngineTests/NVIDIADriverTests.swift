import Foundation
import Layers
import OCI
import TestSupport
import Testing

@testable import CogEngine

/// The driver found without a CDI spec, as nvidia-container-cli finds it: nodes, the linker cache, programs.
@Suite struct NVIDIADriverTests {
    /// The reader agrees with glibc's own `ldconfig -p` on this machine's cache.
    @Test func theLinkerCacheReadsAsLdconfigPrintsIt() throws {
        let cache = try #require(LinkerCache(file: "/etc/ld.so.cache"))
        let printed = try runCommand(["ldconfig", "-p"]).stdout.split(separator: "\n").filter {
            $0.contains("(libc6,x86-64") && !$0.contains("hwcap")
        }.compactMap { line -> LinkerCache.Entry? in
            let parts = line.trimmingCharacters(in: .whitespaces).components(separatedBy: " => ")
            guard parts.count == 2, let soname = parts[0].split(separator: " ").first else { return nil }
            return .init(soname: String(soname), path: parts[1])
        }
        #expect(!cache.entries.isEmpty)
        #expect(Set(cache.entries.map(\.soname)) == Set(printed.map(\.soname)))
        #expect(cache.entries.first { $0.soname.hasPrefix("libc.so") }?.path.hasSuffix("libc.so.6") == true)
        #expect(LinkerCache(file: "/etc/hostname") == nil)
    }

    @Test func withoutASpecTheDriversNodesLibrariesAndProgramsAreGiven() throws {
        guard isRoot else { return }  // mknod
        let gpu = try StandInGPU(gpus: 2)
        var settings = GPUSettings()
        settings.specDirectories = [gpu.emptyDirectory]
        settings.deviceDirectory = gpu.dev
        settings.linkerCache = gpu.linkerCache
        settings.searchPath = "\(gpu.programs):/usr/bin:/bin"
        guard case .granted(let edits, let warnings) = try GPUAccess.find(.all, settings: settings) else {
            Issue.record("no GPU found")
            return
        }
        #expect(warnings.isEmpty)
        #expect(edits.summary.hasPrefix("GPU 0, 1 of the NVIDIA driver (\(gpu.dev), 2 libraries"))
        #expect(
            edits.devices.map(\.destination) == [
                "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia0", "/dev/nvidia1",
            ])
        // Each soname is bound under /usr/local/nvidia/lib64 from the file its link leads to.
        let driver = (gpu.driver as NSString).standardizingPath
        #expect(
            edits.mounts.filter { $0.destination.hasPrefix("/usr/local/nvidia/lib64/") }.sorted {
                $0.destination < $1.destination
            }
                == [
                    .init(
                        source: "\(driver)/libcuda.so.123.45", destination: "/usr/local/nvidia/lib64/libcuda.so.1",
                        readOnly: true),
                    .init(
                        source: "\(driver)/libnvidia-ml.so.123.45",
                        destination: "/usr/local/nvidia/lib64/libnvidia-ml.so.1", readOnly: true),
                ])
        #expect(
            edits.mounts.contains(
                .init(source: "\(gpu.programs)/nvidia-smi", destination: "/usr/bin/nvidia-smi", readOnly: true)))
        #expect(edits.linkerFolders == ["/usr/local/nvidia/lib64"])

        guard case .granted(let one, _) = try GPUAccess.find(.devices(["1"]), settings: settings) else { return }
        #expect(
            one.devices.last?.source == "\(gpu.dev)/nvidia1"
                && !one.devices.contains { $0.destination == "/dev/nvidia0" })
        #expect(throws: GPUError.uuidWithoutSpec("GPU-8f3a")) {
            try GPUAccess.find(.devices(["GPU-8f3a"]), settings: settings)
        }
        #expect(throws: GPUError.self) { try GPUAccess.find(.count(3), settings: settings) }

        // Without nvidia-uvm CUDA fails ("CUDA unknown error"): the fix is named.
        try FileManager.default.removeItem(atPath: "\(gpu.dev)/nvidia-uvm")
        guard case .granted(_, let uvm) = try GPUAccess.find(.all, settings: settings) else { return }
        #expect(uvm.contains { $0.contains("nvidia-modprobe -c0 -u") }, "\(uvm)")

        // No driver: the reason for running on CPU.
        settings.deviceDirectory = gpu.emptyDirectory
        #expect(
            try GPUAccess.find(.all, settings: settings)
                == .unavailable(
                    reason:
                        "no CDI spec in \(gpu.emptyDirectory) and no NVIDIA driver: \(gpu.emptyDirectory)/nvidiactl is missing"
                ))
        settings.deviceDirectory = gpu.dev
        settings.linkerCache = "/etc/ld.so.cache"
        guard case .unavailable(let reason) = try GPUAccess.find(.all, settings: settings) else {
            Issue.record("a driver without libcuda was used")
            return
        }
        #expect(reason.hasSuffix("the NVIDIA driver's libcuda.so.1 is not in /etc/ld.so.cache (run ldconfig)"))
    }

    @Test func aSpecNamingANodeTheHostLacksSaysWhatToDo() throws {
        guard isRoot else { return }
        let gpu = try StandInGPU(gpus: 1)
        var settings = GPUSettings()
        settings.specDirectories = [gpu.specDirectory]
        try FileManager.default.removeItem(atPath: "\(gpu.dev)/nvidia-uvm")
        do {
            _ = try GPUAccess.find(.all, settings: settings)
            Issue.record("a missing node was accepted")
        } catch {
            #expect(
                error.description.contains(
                    "names the device node \(gpu.dev)/nvidia-uvm, which this machine does not have"))
            #expect(error.description.contains("nvidia-modprobe -c0 -u"))
        }
    }

    @Test func aGPUModelAsksForEveryGPU() throws {
        func image(label: String?) throws -> StoredImage {
            let config = ImageConfiguration(config: .init(labels: label.map { ["run.cog.config": $0] }))
            let descriptor = Descriptor(mediaType: .imageConfig, digest: try Digest.sha256(Data()), size: 0)
            return StoredImage(
                descriptor: descriptor, manifest: ImageManifest(config: descriptor, layers: []), configuration: config)
        }
        #expect(GPURequest.automatic(for: try image(label: #"{"build":{"gpu":true,"python_version":"3.11"}}"#)) == .all)
        #expect(GPURequest.automatic(for: try image(label: #"{"build":{"python_version":"3.11"}}"#)) == nil)
        #expect(GPURequest.automatic(for: try image(label: nil)) == nil)
    }
}
