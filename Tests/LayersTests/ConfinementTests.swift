import CSupport
import Foundation
import TestSupport
import Testing

@testable import Layers

/// A hostile step (testdata/sandbox/hostile.py) in each confinement mode: every way out it tries must fail inside
/// the sandbox and leave no trace on the host, checked from here.
@Suite(.serialized) struct ConfinementTests {
    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        /// cog as root: a user namespace mapping every id to itself.
        case root
        /// cog as root where no user namespace can be made: the bounding set, no_new_privs and seccomp only.
        case rootWithoutUserNamespace
        /// cog as an ordinary user without a subordinate range (`nobody`): one id mapped.
        case single
        /// cog as a user with a subordinate range, inside its namespace: a nested identity namespace.
        case subordinate

        var testDescription: String { rawValue }
        var userns: String {
            switch self {
            case .root, .subordinate: return "identity"
            case .rootWithoutUserNamespace: return "none"
            case .single: return "single"
            }
        }
    }

    static let attacks = [
        "chroot", "proc-root", "proc-sys", "sys", "mount", "module", "ptrace", "loopback", "device", "kill",
    ]
    /// Docker's default capability set (CHOWN … SETFCAP) as /proc/self/status prints it.
    static let dockerCapabilities = "00000000a80425fb"

    @Test(arguments: Mode.allCases) func aHostileStepCannotReachTheHost(_ mode: Mode) throws {
        guard isRoot, commandExists("setpriv"), commandExists("slirp4netns"), commandExists("newuidmap") else { return }
        let dir = try TemporaryDirectory("confinement")
        let marker = "cog-hostile-\(UUID().uuidString.prefix(8))"
        let secret = try dir.write("host-only/secret", "only on the host\n")
        // The image, plus a layer holding a device node (char 1:3, the host's /dev/null) as a hostile base could.
        var lowers = try RunnerTests.baseLowers(in: dir)
        let devices = "\(dir.path)/layers/devices"
        try FileManager.default.createDirectory(atPath: "\(devices)/opt", withIntermediateDirectories: true)
        #expect(cog_mknod_at(AT_FDCWD, "\(devices)/opt/hostile-device", S_IFCHR | 0o666, 1, 3) == 0)
        lowers.insert(devices, at: 0)
        for sub in ["upper", "work", "root"] {
            try FileManager.default.createDirectory(atPath: "\(dir.path)/s/\(sub)", withIntermediateDirectories: true)
        }
        let script = "\(dir.path)/hostile.py"
        try FileManager.default.copyItem(atPath: "\(packageRoot)/testdata/sandbox/hostile.py", toPath: script)

        // On the host: a loopback service, a process to find and trace, kernel settings to compare.
        let listener = try LoopbackListener()
        let sleeper = try spawnDetached(
            ["python3", "-c", "import time; time.sleep(600)", "\(marker)-sleeper"], log: "\(dir.path)/sleeper.log")
        defer {
            kill(sleeper, SIGKILL)
            var status: Int32 = 0
            waitpid(sleeper, &status, 0)
        }
        // Python still starting shows as running (R) on a busy machine: wait until it sleeps.
        for _ in 0..<200 where Self.state(of: sleeper) != "S" { usleep(50_000) }
        let swappiness = try String(contentsOfFile: "/proc/sys/vm/swappiness", encoding: .utf8)

        let (prefix, executable) = try Self.runner(for: mode, in: dir)
        var args =
            prefix + [
                executable, "__sandbox", "--root", "\(dir.path)/s/root", "--upper", "\(dir.path)/s/upper", "--work",
                "\(dir.path)/s/work",
                "--userns", mode.userns, "--net", "slirp", "--tmpfs", "/run", "--ro-bind", "\(script):/run/hostile.py",
                "--setenv", "PATH=/usr/local/bin:/usr/bin:/bin",
            ]
        for lower in lowers { args += ["--lower", lower] }
        args += ["--", "python3", "/run/hostile.py", secret, marker, "\(listener.port)", "\(sleeper)"]
        let result = try runCommand(args)
        #expect(result.status == 0, "\(result.output.suffix(3000))")

        // MARK: inside, every attempt failed
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for attack in Self.attacks {
            let line = lines.first { $0.hasPrefix("RESULT \(attack) ") }
            #expect(
                line?.hasPrefix("RESULT \(attack) held") == true,
                "\(mode): \(line ?? "no result for \(attack)"): \(result.output.suffix(2000))")
        }
        let status = lines.first { $0.hasPrefix("STATUS ") } ?? ""
        for expected in [
            "CapEff=\(Self.dockerCapabilities)", "CapBnd=\(Self.dockerCapabilities)", "NoNewPrivs=1", "Seccomp=2",
        ] {
            #expect(status.contains(expected), "\(mode): \(status)")
        }
        // The escape attempts wrote their markers into the image, which is where they stayed.
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/s/upper/tmp/\(marker)-chroot"), "\(mode)")

        // MARK: outside, no trace
        for path in ["/tmp/\(marker)-chroot", "/\(marker)-proc", "/tmp/\(marker)-proc"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(mode): \(path) was written on the host")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/host-only") == ["secret"])
        #expect(try String(contentsOfFile: "/proc/sys/vm/swappiness", encoding: .utf8) == swappiness)
        #expect(!listener.wasConnected, "\(mode): the step reached the host's loopback service")
        #expect(
            kill(sleeper, 0) == 0 && ["S", "R"].contains(Self.state(of: sleeper)),
            "\(mode): the host's sleeper was killed or stopped (\(Self.state(of: sleeper)))")
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(dir.path), "\(mode): a mount of the sandbox is left on the host")
    }

    /// A GPU's node given with --dev-bind opens read-write in every mode (its mount is not nodev); the same node
    /// given as an ordinary bind, or made by the step, does not (nodev), and --dev-bind takes character devices only.
    @Test(arguments: [Mode.root, .single, .subordinate]) func aDeviceBindOpensWhereOtherBindsDoNot(_ mode: Mode) throws
    {
        guard isRoot, commandExists("setpriv"), commandExists("newuidmap") else { return }
        let dir = try TemporaryDirectory("device-bind")
        let lowers = try RunnerTests.baseLowers(in: dir)
        for sub in ["upper", "work", "root"] {
            try FileManager.default.createDirectory(atPath: "\(dir.path)/s/\(sub)", withIntermediateDirectories: true)
        }
        let node = "\(dir.path)/nodes/nvidia0"
        try FileManager.default.createDirectory(atPath: "\(dir.path)/nodes", withIntermediateDirectories: true)
        #expect(cog_mknod_at(AT_FDCWD, node, S_IFCHR | 0o666, 1, 3) == 0)
        chmod(node, 0o666)
        let (prefix, executable) = try Self.runner(for: mode, in: dir)
        let script = """
            echo x > /dev/nvidia0 && echo DEVICE-BIND-OPENS
            echo x > /opt/plain-bind || echo PLAIN-BIND-REFUSED
            grep ' /dev/nvidia0 ' /proc/self/mountinfo
            """
        var args =
            prefix + [
                executable, "__sandbox", "--root", "\(dir.path)/s/root", "--upper", "\(dir.path)/s/upper", "--work",
                "\(dir.path)/s/work", "--userns", mode.userns, "--net", "none", "--dev-bind", "\(node):/dev/nvidia0",
                "--bind", "\(node):/opt/plain-bind", "--setenv", "PATH=/usr/bin:/bin",
            ]
        for lower in lowers { args += ["--lower", lower] }
        let result = try runCommand(args + ["--", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(mode): \(result.output)")
        #expect(result.stdout.contains("DEVICE-BIND-OPENS"), "\(mode): \(result.output)")
        #expect(result.stdout.contains("PLAIN-BIND-REFUSED"), "\(mode): \(result.output)")
        let mount = result.stdout.split(separator: "\n").first { $0.contains(" /dev/nvidia0 ") } ?? ""
        #expect(mount.contains("nosuid") && mount.contains("noexec") && !mount.contains("nodev"), "\(mount)")
        // A regular file is no device: the sandbox refuses it rather than bind it without nodev.
        let file = try dir.write("not-a-device", "")
        var refused = args
        refused[refused.firstIndex(of: "\(node):/dev/nvidia0")!] = "\(file):/dev/nvidia0"
        let refusal = try runCommand(refused + ["--", "/bin/true"])
        #expect(refusal.status == 125 && refusal.stderr.contains("is not a character device"), "\(refusal.output)")
    }

    @Test func theIsolatedNetworkResolvesThroughSlirpWithTheHostsSearchDomains() {
        let conf = StepRunner.resolvConf(
            host: "# written by the host\nnameserver 10.255.255.53\nsearch example.com\noptions ndots:2\n")
        #expect(conf == "nameserver 10.0.2.3\nsearch example.com\noptions ndots:2\n")
    }

    @Test func sandboxArgumentsFollowTheMappingAndTheConfinement() {
        let full = Confinement(userNamespace: true, seccomp: true, network: .isolated, shortfalls: [])
        let bare = Confinement(userNamespace: false, seccomp: false, network: .host, shortfalls: ["…"])
        let subordinate = IDMapping.subordinate(
            uidStart: 400_000, uidCount: 65_536, gidStart: 400_000, gidCount: 65_536)
        #expect(full.userNamespaceArgument(for: .none) == "identity")
        #expect(full.userNamespaceArgument(for: subordinate) == "identity")
        #expect(full.userNamespaceArgument(for: .single) == "single")
        #expect(bare.userNamespaceArgument(for: .none) == "none")
        var configuration = SandboxConfiguration(
            mountpoint: "/m", lowers: [], upper: nil, work: nil, command: ["server"])
        configuration.published = [PublishedPort(hostAddress: "127.0.0.1", hostPort: 5000, guestPort: 5000)]
        let isolated = Sandbox(mapping: .none, confinement: full).arguments(
            for: configuration, createdLog: "/log", apiSocket: "/s.sock")
        #expect(isolated.joined(separator: " ").contains("--userns identity --net slirp --seccomp on"))
        #expect(isolated.joined(separator: " ").contains("--api-socket /s.sock --publish 127.0.0.1:5000:5000"))
        // On the host's network the server's port is the host's own: nothing to forward.
        let host = Sandbox(mapping: .none, confinement: bare).arguments(
            for: configuration, createdLog: "/log", apiSocket: "/s.sock")
        #expect(host.joined(separator: " ").contains("--userns none --net host --seccomp off"))
        #expect(!host.contains("--publish"))
    }

    /// What runs the sandbox for `mode`: a prefix (a user switch, cog's namespace) and the executable.
    static func runner(for mode: Mode, in dir: TemporaryDirectory) throws -> ([String], String) {
        let own = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        switch mode {
        case .root, .rootWithoutUserNamespace:
            return ([], own)
        case .single:
            let copy = try copyForOtherUsers(executable: own, in: dir)
            _ = try runCommand(["chown", "-R", "nobody:nogroup", dir.path])
            return (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], copy)
        case .subordinate:
            let copy = try copyForOtherUsers(executable: own, in: dir)
            let (uid, gid) = try SubordinateIDUser.ensure()
            _ = try runCommand(["chown", "-R", "\(uid):\(gid)", dir.path])  // root inside cog's namespace
            let range = "\(SubordinateIDUser.firstID):\(SubordinateIDUser.count)"
            return (
                try SubordinateIDUser.command(home: dir.path) + [copy, "__userns", "subid:\(range):\(range)", "--"],
                copy
            )
        }
    }

    /// The state letter of a process (/proc/PID/stat): S sleeping, T stopped, t traced, Z zombie.
    static func state(of pid: pid_t) -> String {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return "gone" }
        return String(stat[stat.index(close, offsetBy: 2)...].prefix(1))
    }
}

/// A TCP listener on the host's 127.0.0.1 that only records whether anyone connected.
final class LoopbackListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok, listen(fd, 8) == 0 else {
            close(fd)
            throw TestSetupError("cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    var wasConnected: Bool {
        let client = accept(fd, nil, nil)
        if client >= 0 { close(client) }
        return client >= 0
    }
}
