import Foundation
import Layers

/// Where the GPUs of this machine are described: CDI spec directories, and for machines without a spec, where
/// the driver's device nodes and libraries are looked for. Read from the environment by the command line.
public struct GPUSettings: Sendable, Equatable {
    /// CDI spec directories, lowest priority first (a later directory's device replaces an earlier one's).
    public var specDirectories = ["/etc/cdi", "/var/run/cdi"]
    /// Where `/dev/nvidiactl`, `/dev/nvidia0`… are (tests point it at stand-in nodes).
    public var deviceDirectory = "/dev"
    /// The dynamic linker's cache the driver libraries are found in (`ldconfig -p` reads the same file).
    public var linkerCache = "/etc/ld.so.cache"
    /// The caller's `PATH`, where `nvidia-smi` and the other driver programs are found.
    public var searchPath = "/usr/bin:/bin:/usr/sbin:/sbin"

    public init() {}
}

/// What a sandboxed model gets for its GPUs: host device nodes bound where the container expects them (usable,
/// on mounts without `nodev`), driver files, environment, and the work of the hooks cog knows (an `ld.so.conf.d`
/// entry with `ldconfig`, symbolic links), done inside the sandbox by a shell before the model starts.
public struct GPUEdits: Sendable, Equatable {
    /// Where they came from, for the one line cog prints (`nvidia.com/gpu=all from /etc/cdi/nvidia.yaml`).
    public var summary: String
    public var devices: [SandboxConfiguration.Bind] = []
    public var mounts: [SandboxConfiguration.Bind] = []
    /// `NAME=value`, replacing the image's.
    public var environment: [String] = []
    /// Folders for the dynamic linker (`update-ldcache` hooks; the driver libraries' folder without a spec).
    public var linkerFolders: [String] = []
    /// `create-symlinks` hooks: links made in the container (`target` as the link holds it).
    public var symlinks: [Symlink] = []
    /// Hooks cog does not know, left out (named in the summary line).
    public var skippedHooks: [String] = []

    public struct Symlink: Sendable, Equatable {
        public var target: String
        public var link: String
    }

    public init(summary: String) { self.summary = summary }

    /// Adds `other`'s edits after these (a device's after its spec's).
    mutating func merge(_ other: GPUEdits) {
        devices += other.devices.filter { !devices.contains($0) }
        mounts += other.mounts.filter { !mounts.contains($0) }
        environment = StepRunner.environment(environment, replacing: other.environment)
        linkerFolders += other.linkerFolders.filter { !linkerFolders.contains($0) }
        symlinks += other.symlinks.filter { !symlinks.contains($0) }
        skippedHooks += other.skippedHooks.filter { !skippedHooks.contains($0) }
    }

    /// The step with the GPUs: mounts, environment, and its command behind the setup shell when there is setup
    /// work (an image without /bin/sh then cannot start; Cog's images all have one).
    public func apply(to step: StepRunner.Step) -> StepRunner.Step {
        var step = step
        step.mounts += devices + mounts
        step.environment = StepRunner.environment(step.environment, replacing: environment)
        if let script = setupScript { step.command = ["/bin/sh", "-c", script, "cog-gpu-setup"] + step.command }
        return step
    }

    /// The shell run before the model (`$@` is its command), or nil when there is nothing to set up.
    var setupScript: String? {
        guard !linkerFolders.isEmpty || !symlinks.isEmpty else { return nil }
        var lines: [String] = []
        if !linkerFolders.isEmpty {
            let folders = linkerFolders.map(BuildPlanner.shellQuoted).joined(separator: " ")
            // nvidia-ctk's update-ldcache writes such a file and runs ldconfig on the container's root.
            lines.append(
                "mkdir -p /etc/ld.so.conf.d && printf '%s\\n' \(folders) > /etc/ld.so.conf.d/00-cog-gpu.conf && "
                    + "{ ldconfig || /sbin/ldconfig; } >/dev/null 2>&1 || echo 'cog: ldconfig failed: the GPU "
                    + "libraries may not be found' >&2")
        }
        for link in symlinks {
            let (target, path) = (BuildPlanner.shellQuoted(link.target), BuildPlanner.shellQuoted(link.link))
            lines.append("mkdir -p \"$(dirname \(path))\" && ln -sfn \(target) \(path)")
        }
        lines.append("exec \"$@\"")
        return lines.joined(separator: "\n")
    }
}
