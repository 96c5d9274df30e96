import Foundation
import OCI

/// Runs one build step's command on top of a stack of layer dirs, with outbound network (see `Confinement`),
/// the host's CA bundle and package-index settings, cache mounts and secrets; the step's changes land in a fresh
/// upper dir.
public struct StepRunner: Sendable {
    public let sandbox: Sandbox
    /// Holds `mounts/<id>` cache dirs and `scratch/` work areas (on the same file system as the layer store).
    public let cacheRoot: String
    /// The build machine's variables steps see (see `passedThrough`), and `SSL_CERT_FILE` for the CA bundle.
    public let host: [String: String]

    /// - Parameter host: the caller's environment; only `passedThrough` names and `SSL_CERT_FILE` are used.
    public init(sandbox: Sandbox, cacheRoot: String, host: [String: String]) {
        self.sandbox = sandbox
        self.cacheRoot = cacheRoot
        self.host = host.filter { Self.passedThrough.contains($0.key) || $0.key == "SSL_CERT_FILE" }
    }

    /// One command to run.
    public struct Step: Sendable {
        public var command: [String]
        /// `NAME=value`, the image's environment at this point.
        public var environment: [String]
        public var workingDirectory: String
        /// Cache mounts: `mounts/<id>` at `target`, shared between builds, never in a layer.
        public var caches: [(id: String, target: String)]
        /// Secret files mounted read-only at `target` while the step runs.
        public var secrets: [(source: String, target: String)]
        /// PEM certificates to trust besides the host's bundle (the image's COG_CA_CERT).
        public var extraCertificates: String?
        /// See `SandboxConfiguration.ownProcessGroup`.
        public var ownProcessGroup = true
        /// See `SandboxConfiguration.standardInput`.
        public var standardInput = false
        /// Ports forwarded from the host (a served model's).
        public var published: [PublishedPort] = []
        /// Further mounts, after every other (a served model's GPU: device nodes, driver libraries).
        public var mounts: [SandboxConfiguration.Bind] = []
        /// `host.docker.internal` names the host (Docker's `host-gateway`, which Cog's `serve --upload-url` adds):
        /// 10.0.2.2, which then reaches the host's loopback, on the isolated network; 127.0.0.1 on the host's.
        public var hostGateway = false

        public init(
            command: [String], environment: [String], workingDirectory: String = "/",
            caches: [(id: String, target: String)] = [], secrets: [(source: String, target: String)] = []
        ) {
            self.command = command
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.caches = caches
            self.secrets = secrets
        }
    }

    /// What a finished step left: its exit status and the upper dir holding its changes.
    public struct Outcome: Sendable {
        public var status: Int32
        public var timedOut: Bool
        /// The scratch dir (`upper/`, `work/`, `root/`); the caller captures `upper` and removes the rest.
        public var scratch: String
        public var upper: String { "\(scratch)/upper" }
        public var createdMountpoints: [String]
        /// Paths whose change time the sandbox altered (`SandboxResult.touchedPaths`).
        public var touchedPaths: [String] = []
    }

    /// Host variables passed through so apt and pip inside reach the same mirrors and proxies as the host.
    /// `PIP_FIND_LINKS` and other local-path settings are deliberately not passed.
    static let proxyVariables: Set = ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]
    static let passedThrough = [
        "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
        "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT",
        "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_PYTHON_INSTALL_MIRROR",
    ]

    /// Runs `step` over `lowers` (top-most first).
    public func run(
        _ step: Step, lowers: [String], timeout: Double? = nil, cancel: CancelFlag = CancelFlag(),
        output: @escaping @Sendable (String) -> Void
    ) throws -> Outcome {
        let scratch = "\(cacheRoot)/scratch/step-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for dir in ["upper", "work", "root"] { try FileSystem.makeDirectory("\(scratch)/\(dir)") }
        // Identical layers (two steps that changed nothing) share one dir; overlayfs refuses a dir twice (ELOOP).
        // The top-most copy shadows everything the lower one holds, so dropping the lower one changes nothing.
        var seen = Set<String>()
        let lowers = lowers.filter { seen.insert($0).inserted }
        var configuration = SandboxConfiguration(
            mountpoint: "\(scratch)/root", lowers: lowers, upper: "\(scratch)/upper",
            work: "\(scratch)/work", command: step.command)
        try configure(step, &configuration, scratch: scratch)
        let locks = try lockCaches(of: step)
        defer { for lock in locks { lock.release() } }
        let result = try sandbox.run(configuration, timeout: timeout, cancel: cancel, output: output)
        return Outcome(
            status: result.status, timedOut: result.timedOut, scratch: scratch,
            createdMountpoints: result.createdMountpoints)
    }

    /// The folder of a cache mount under `mounts/`: the id itself when it is a plain name (`pip-cache`), else a
    /// digest of it. An id comes from cog.yaml (BuildKit's default is the target path, `/root/.cache/pip`), and
    /// `id=../../home` must not name a folder outside the cache.
    static func mountDirectory(_ id: String) -> String {
        let plain = id.utf8.allSatisfy {
            $0 < 128
                && (isalnum(Int32($0)) != 0 || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: "."))
        }
        if plain && !id.isEmpty && id != "." && id != ".." { return id }
        let digest = (try? Digest.sha256(Data(id.utf8)).encoded) ?? "invalid"
        return "id-\(digest.prefix(32))"
    }

    /// Locks the step's cache mounts while it runs (BuildKit's `sharing=locked`, as the plan prints them): two
    /// builds on one cache never run apt on the same lists at once. Taken in name order, so builds cannot deadlock.
    private func lockCaches(of step: Step) throws -> [FileLock] {
        let ids = Set(step.caches.map { Self.mountDirectory($0.id) }).sorted()
        guard !ids.isEmpty else { return [] }
        try FileSystem.makeDirectory("\(cacheRoot)/mounts")
        return try ids.map { try FileLock("\(cacheRoot)/mounts/\($0).lock") }
    }

    /// Runs `step` directly in a writable tree (no overlay): the fallback capture method compares snapshots.
    public func runInPlace(
        _ step: Step, root: String, timeout: Double? = nil, cancel: CancelFlag = CancelFlag(),
        output: @escaping @Sendable (String) -> Void
    ) throws -> Outcome {
        let scratch = "\(cacheRoot)/scratch/step-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectory(scratch)
        var configuration = SandboxConfiguration(
            mountpoint: root, lowers: [], upper: nil, work: nil, command: step.command)
        try configure(step, &configuration, scratch: scratch)
        let locks = try lockCaches(of: step)
        defer { for lock in locks { lock.release() } }
        let result = try sandbox.run(configuration, timeout: timeout, cancel: cancel, output: output)
        FileSystem.remove(scratch)
        return Outcome(
            status: result.status, timedOut: result.timedOut, scratch: scratch,
            createdMountpoints: result.createdMountpoints, touchedPaths: result.touchedPaths)
    }

    /// Working directory, environment, and the mounts every step gets: DNS, caches, secrets.
    private func configure(_ step: Step, _ configuration: inout SandboxConfiguration, scratch: String) throws {
        configuration.workingDirectory = step.workingDirectory
        configuration.ownProcessGroup = step.ownProcessGroup
        configuration.standardInput = step.standardInput
        configuration.environment = try environment(for: step, configuration: &configuration, scratch: scratch)
        configuration.published = step.published
        if sandbox.confinement.network == .isolated {
            let resolver = "\(scratch)/resolv.conf"
            let host = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
            try FileSystem.writeAtomically(Data(Self.resolvConf(host: host).utf8), to: resolver)
            configuration.binds.append(.init(source: resolver, destination: "/etc/resolv.conf", readOnly: true))
        }
        if step.hostGateway {
            let isolated = sandbox.confinement.network == .isolated
            configuration.hostLoopback = isolated
            let hosts = "\(scratch)/hosts"
            let host = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? "127.0.0.1 localhost\n"
            let line = "\(isolated ? "10.0.2.2" : "127.0.0.1") host.docker.internal\n"
            try FileSystem.writeAtomically(
                Data(((host.hasSuffix("\n") ? host : host + "\n") + line).utf8), to: hosts)
            configuration.binds.append(.init(source: hosts, destination: "/etc/hosts", readOnly: true))
        }
        for file in [
            sandbox.confinement.network == .isolated ? nil : "/etc/resolv.conf", step.hostGateway ? nil : "/etc/hosts",
        ].compactMap({ $0 }) where FileSystem.exists(file) {
            configuration.binds.append(.init(source: file, destination: file, readOnly: true))
        }
        for cache in step.caches {
            let dir = "\(cacheRoot)/mounts/\(Self.mountDirectory(cache.id))"
            try FileSystem.makeDirectory(dir)
            configuration.binds.append(.init(source: dir, destination: cache.target, readOnly: false))
        }
        for secret in step.secrets {
            configuration.binds.append(.init(source: secret.source, destination: secret.target, readOnly: true))
        }
        configuration.binds += step.mounts
    }

    /// The resolver of the isolated network: slirp4netns's DNS forwarder (which asks the host's servers), with the
    /// host's search domains and options.
    static func resolvConf(host: String) -> String {
        let kept = host.split(separator: "\n").filter {
            $0.hasPrefix("search") || $0.hasPrefix("domain") || $0.hasPrefix("options")
        }
        return (["nameserver 10.0.2.3"] + kept.map(String.init)).joined(separator: "\n") + "\n"
    }

    /// Where the sandbox sees the CA bundle (under /run, a tmpfs there, so nothing of it reaches a layer).
    static let bundleTarget = "/run/cog/ca-certificates.crt"

    private func environment(for step: Step, configuration: inout SandboxConfiguration, scratch: String) throws
        -> [String]
    {
        let bundle = try Self.caBundle(host: host, extra: step.extraCertificates, scratch: scratch)
        if let bundle {
            configuration.binds.append(.init(source: bundle, destination: Self.bundleTarget, readOnly: true))
        }
        if sandbox.mapping == .single {
            // apt drops privileges to _apt, which a one-id namespace cannot represent.
            let conf = "\(scratch)/apt-sandbox.conf"
            try FileSystem.writeAtomically(Data("APT::Sandbox::User \"root\";\n".utf8), to: conf)
            configuration.binds.append(
                .init(source: conf, destination: "/etc/apt/apt.conf.d/00cog-sandbox", readOnly: true))
        }
        return Self.environment(image: step.environment, host: host, hasBundle: bundle != nil)
    }

    /// A step's environment: the image's, with the host's proxy and CA settings replacing the image's (a process
    /// reads the first of two entries with one name) and the host's package-index settings filling in only what
    /// the image (cog.yaml's environment) does not set itself.
    static func environment(image: [String], host: [String: String], hasBundle: Bool) -> [String] {
        var replacing: [String] = []
        var filling: [String] = []
        for name in passedThrough {
            guard let value = host[name] else { continue }
            if proxyVariables.contains(name) {
                replacing.append("\(name)=\(value)")
            } else {
                filling.append("\(name)=\(value)")
            }
        }
        if hasBundle {
            replacing += ["SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"].map {
                "\($0)=\(bundleTarget)"
            }
        }
        return environment(environment(filling, replacing: image), replacing: replacing)
    }

    /// `base` with the `NAME=value` entries of `given` replacing those of the same name (a process reads the first
    /// of two entries with one name, so both cannot stay).
    public static func environment(_ base: [String], replacing given: [String]) -> [String] {
        let name = { (entry: String) in entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry }
        let names = Set(given.map(name))
        return base.filter { !names.contains(name($0)) } + given
    }

    /// The CA bundle steps trust: the host's (`SSL_CERT_FILE`, else Debian's), joined in `scratch` with `extra`
    /// (the image's COG_CA_CERT) when given; nil when there is none.
    static func caBundle(host: [String: String], extra: String?, scratch: String) throws -> String? {
        let hostBundle = [host["SSL_CERT_FILE"], "/etc/ssl/certs/ca-certificates.crt"].compactMap { $0 }.first(
            where: FileSystem.exists)
        guard let extra, !extra.isEmpty else { return hostBundle }
        let joined = "\(scratch)/ca-certificates.crt"
        let contents = hostBundle.flatMap { FileManager.default.contents(atPath: $0) } ?? Data()
        try FileSystem.writeAtomically(contents + Data("\n".utf8) + Data(extra.utf8), to: joined)
        return joined
    }

    /// Removes scratch dirs left by builds that were killed; live builds keep theirs.
    public func removeStaleScratch() { StaleFiles.removeScratch(in: "\(cacheRoot)/scratch") }

    /// Removes a step's scratch dir.
    public func discard(_ outcome: Outcome) { FileSystem.remove(outcome.scratch) }
}
