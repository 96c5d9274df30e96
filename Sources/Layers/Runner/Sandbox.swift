import CSupport
import Foundation
import OCI

/// What one sandboxed command sees: its root filesystem (overlay of lower dirs and an upper dir, or a plain
/// directory), mounts, environment and working directory.
public struct SandboxConfiguration: Sendable {
    public struct Bind: Sendable, Equatable {
        public var source: String
        public var destination: String
        public var readOnly: Bool
        /// A host character device (a GPU's node) that must open: a mount of its own without `nodev` (every other
        /// bind is `nodev`). The sandbox refuses a source that is not a character device.
        public var device: Bool
        public init(source: String, destination: String, readOnly: Bool, device: Bool = false) {
            self.source = source
            self.destination = destination
            self.readOnly = readOnly
            self.device = device
        }
    }

    /// Where the root is assembled (an empty directory).
    public var mountpoint: String
    /// Overlay lower dirs, top-most first. Empty: `mountpoint` is used as it is.
    public var lowers: [String]
    /// The overlay upper and work dirs; the command's changes land in `upper`.
    public var upper: String?
    public var work: String?
    public var binds: [Bind] = []
    /// /tmp stays in the overlay (files a COPY step put there must be visible); capture leaves it out.
    public var tmpfs: [String] = ["/run"]
    public var workingDirectory = "/"
    /// `NAME=value`; nothing else is inherited.
    public var environment: [String] = []
    public var hostname = "cog-build"
    /// Ports of the sandbox reachable from the host (only with the isolated network: on the host's network the
    /// command's own ports are the host's).
    public var published: [PublishedPort] = []
    /// With the isolated network: slirp4netns's 10.0.2.2 reaches the host's loopback (the served model's
    /// `host.docker.internal`); never for build steps.
    public var hostLoopback = false
    /// Build steps get a process group of their own, so that Ctrl-C reaches cog, which stops them in order; a
    /// served model stays in the terminal's group and stops with it.
    public var ownProcessGroup = true
    /// The command reads cog's standard input (`cog exec`), else /dev/null.
    public var standardInput = false
    public var command: [String]

    public init(mountpoint: String, lowers: [String], upper: String?, work: String?, command: [String]) {
        self.mountpoint = mountpoint
        self.lowers = lowers
        self.upper = upper
        self.work = work
        self.command = command
    }
}

/// A TCP port of a sandbox forwarded from the host (by slirp4netns).
public struct PublishedPort: Sendable, Equatable {
    /// The host address to listen on (IPv4: 127.0.0.1 keeps it to this machine).
    public var hostAddress: String
    public var hostPort: Int
    public var guestPort: Int
    public init(hostAddress: String, hostPort: Int, guestPort: Int) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestPort = guestPort
    }
}

/// How ids inside the sandbox map to ids outside it.
public enum IDMapping: Sendable, Equatable, CustomStringConvertible {
    /// Running as root: ids are real (steps still get a user namespace mapping every id to itself, see
    /// `Confinement`).
    case none
    /// One id: the caller becomes root inside; files of other owners cannot be represented.
    case single
    /// This process already runs in cog's user namespace (`UserNamespace`): the caller is root there and ids 1…
    /// map to a subordinate range (`/etc/subuid`, `newuidmap`). Steps get a nested namespace mapping those ids
    /// to themselves.
    case subordinate(uidStart: UInt32, uidCount: UInt32, gidStart: UInt32, gidCount: UInt32)

    /// Inside cog's user namespace (`COG_USERNS` in `environment`): subordinate; root: none; otherwise single.
    public static func detect(environment: [String: String]) -> IDMapping {
        if let current = UserNamespace.current(environment: environment) { return current }
        return geteuid() == 0 ? .none : .single
    }

    /// The argument of `__userns` for a subordinate mapping.
    var argument: String {
        switch self {
        case .none, .single: return ""
        case .subordinate(let u, let uc, let g, let gc): return "subid:\(u):\(uc):\(g):\(gc)"
        }
    }

    /// Whether real device nodes can be created (not in any user namespace).
    public var canCreateDevices: Bool { self == .none && !UserNamespace.isInsideUserNamespace }

    public var description: String {
        switch self {
        case .none: return "as root"
        case .single:
            return "rootless, one uid mapped to root (packages that own files as other users get root instead)"
        case .subordinate(let u, let uc, let g, let gc):
            return
                "rootless, ids 1-\(min(uc, gc)) mapped to the subordinate ranges \(u)+\(uc) (uids) and \(g)+\(gc) (gids)"
        }
    }
}

/// The result of a sandboxed command.
public struct SandboxResult: Sendable {
    public var status: Int32
    /// Mount points the sandbox created inside the root (relative paths), to be removed from the upper dir.
    public var createdMountpoints: [String]
    /// Paths whose change time the sandbox itself altered (chroot isolation puts mounts into the tree and takes
    /// them away again): not the command's change.
    public var touchedPaths: [String] = []
    public var timedOut: Bool
}

/// Runs commands in the sandbox by re-executing this binary as `__sandbox` (see CSupport/sandbox.c).
public struct Sandbox: Sendable {
    public let mapping: IDMapping
    public let confinement: Confinement
    /// The binary that carries the sandbox entry point (this process's own executable).
    public let executable: String

    public init(mapping: IDMapping, confinement: Confinement) {
        _ = cog_sandbox_linked()
        self.mapping = mapping
        self.confinement = confinement
        executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The helper's command line for `configuration`.
    func arguments(for configuration: SandboxConfiguration, createdLog: String, apiSocket: String?) -> [String] {
        var args = [
            executable, "__sandbox", "--root", configuration.mountpoint,
            "--userns", confinement.userNamespaceArgument(for: mapping), "--net", confinement.networkArgument,
            "--seccomp", confinement.seccomp ? "on" : "off", "--isolation",
            confinement.chrootOnly ? "chroot" : "namespaces",
            "--cwd", configuration.workingDirectory, "--hostname", configuration.hostname, "--created-log", createdLog,
        ]
        if confinement.network == .isolated, configuration.hostLoopback { args += ["--host-loopback", "on"] }
        if confinement.network == .isolated, let apiSocket, !configuration.published.isEmpty {
            args += ["--api-socket", apiSocket]
            for port in configuration.published {
                args += ["--publish", "\(port.hostAddress):\(port.hostPort):\(port.guestPort)"]
            }
        }
        for lower in configuration.lowers { args += ["--lower", lower] }
        if let upper = configuration.upper, let work = configuration.work {
            args += ["--upper", upper, "--work", work]
        }
        for dir in configuration.tmpfs { args += ["--tmpfs", dir] }
        for bind in configuration.binds {
            let flag = bind.device ? "--dev-bind" : bind.readOnly ? "--ro-bind" : "--bind"
            args += [flag, "\(bind.source):\(bind.destination)"]
        }
        for variable in configuration.environment { args += ["--setenv", variable] }
        return args + ["--"] + configuration.command
    }

    /// A fresh path for slirp4netns's API socket: in the temporary directory, or /tmp where that path would
    /// not fit a socket address (108 bytes).
    static func socketPath() -> String {
        let name = "cog-slirp-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent(name)
        return path.utf8.count < 100 ? path : "/tmp/\(name)"
    }

    /// Runs the command, passing each line of its output to `output` as it comes.
    /// - Parameters:
    ///   - timeout: seconds after which the whole process tree is killed.
    ///   - cancel: set to true from elsewhere to kill the process tree (Ctrl-C handling).
    public func run(
        _ configuration: SandboxConfiguration, timeout: Double? = nil, cancel: CancelFlag = CancelFlag(),
        output: @escaping @Sendable (String) -> Void
    ) throws -> SandboxResult {
        let createdLog = FileSystem.temporarySibling(of: "\(configuration.work ?? NSTemporaryDirectory())/../created")
        let apiSocket = configuration.published.isEmpty ? nil : Self.socketPath()
        defer {
            FileSystem.remove(createdLog)
            if let apiSocket { unlink(apiSocket) }
        }
        let process = try SpawnedProcess(
            arguments(for: configuration, createdLog: createdLog, apiSocket: apiSocket),
            ownProcessGroup: configuration.ownProcessGroup, standardInput: configuration.standardInput)
        Thread.detachNewThread { process.forEachLine(output) }
        let end = process.wait(cancel: cancel, deadline: timeout.map { Date().addingTimeInterval($0) })
        if end != .exited {
            process.signal(SIGTERM)  // the helper kills its whole tree; namespaces and mounts go with it
            process.waitForExit()
        }
        let timedOut = end == .timedOut
        process.waitForOutput()
        let lines = ((try? String(contentsOfFile: createdLog, encoding: .utf8)) ?? "").split(separator: "\n")
        let created = lines.filter { !$0.hasPrefix("~") }.map { String($0.drop { $0 == "/" }) }
        let touched = lines.filter { $0.hasPrefix("~") }.map { String($0.dropFirst()) }
        return SandboxResult(
            status: process.exitStatus, createdMountpoints: created, touchedPaths: touched, timedOut: timedOut)
    }
}
