import Foundation
import Layers
import OCI
import Registry

/// Runs an image's HTTP server (the cog runtime) or another command in the sandbox, and stops it. With the isolated
/// network the server listens in the sandbox's own network namespace and slirp4netns forwards `address:port` to it;
/// with the host's network it is told to listen on `address` itself.
public final class ImageServer: Sendable {
    public let port: Int
    /// Where the server is published (127.0.0.1 unless `cog serve --host` says otherwise).
    public let address: String
    public let confinement: Confinement
    private let cancel = CancelFlag()
    private let work: BackgroundWork<StepRunner.Outcome>
    private let runner: StepRunner
    /// The last lines the server printed (JSON records made readable); its memory is bounded whatever it prints.
    public let log = OutputTail()
    /// The runtime's last error records (a failed setup's reason), kept apart so later output cannot push them out.
    let errors = OutputTail(limit: 3)

    /// Starts the image's entrypoint and command (or `command`) with `/src` as the working directory.
    /// - Parameters:
    ///   - hostEnvironment: the caller's environment (proxies and CA settings the model sees, as build steps do;
    ///     `PATH` to find slirp4netns).
    ///   - network: `--network`; `.none` leaves nothing to publish the server on.
    ///   - projectDirectory: bind-mounted read-write at /src instead of the image's copy (an image built with the
    ///     project mounted has none), as Cog's `predict`, `serve`, `train` and `exec` mount it.
    ///   - weights: host folders mounted read-only at targets in the container (`WeightMounts`).
    ///   - environment: `NAME=value` for the model, replacing the image's.
    ///   - gpus: the GPUs to give the model (`GPUAccess.find`), nil for none.
    ///   - publish: a command's ports published on the host (`cog exec -p`; on the host's network its ports are
    ///     the host's already).
    ///   - serverArguments: added to the image's command (`--x-mode train` for `cog train`).
    ///   - standardInput: the command reads cog's standard input (`cog exec`), else /dev/null.
    ///   - hostGateway: `host.docker.internal` reaches the host, as Cog's `serve --upload-url` gives it.
    public init(
        image: StoredImage, paths: CogPaths, hostEnvironment: [String: String],
        network: Confinement.Network = .isolated,
        command: [String]? = nil, projectDirectory: String? = nil,
        weights: [(source: String, target: String)] = [], environment: [String] = [],
        gpus: GPUEdits? = nil, serverArguments: [String] = [], publish: [PublishedPort] = [],
        address: String = "127.0.0.1", port requested: Int? = nil, standardInput: Bool = false,
        hostGateway: Bool = false,
        echo: (@Sendable (String) -> Void)? = nil
    ) throws {
        port = try requested ?? Self.freePort()
        self.address = address
        let confinement = Confinement.detect(network: network, searchPath: hostEnvironment["PATH"] ?? "/usr/bin:/bin")
        self.confinement = confinement
        guard !confinement.chrootOnly else { throw PredictError.needsNamespaces }
        let runner = StepRunner(
            sandbox: Sandbox(mapping: paths.mapping, confinement: confinement), cacheRoot: paths.root,
            host: hostEnvironment)
        self.runner = runner
        let lowers = try LayerUnpacker(store: paths.layers, blobs: paths.blobs)
            .directories(
                for: zip(image.manifest.layers, image.configuration.rootfs.diffIDs).map { ($0.0.digest, $0.1) })
        let config = image.configuration.config
        var argv = command ?? ((config?.entrypoint ?? []) + (config?.cmd ?? []) + serverArguments)
        if command == nil, confinement.network == .host, argv.contains("cog.server.http") {
            argv += ["--host", address]  // the runtime listens on 0.0.0.0 unless told
        }
        var step = StepRunner.Step(
            command: argv,
            environment: StepRunner.environment(config?.env ?? [], replacing: environment + ["PORT=\(port)"]),
            workingDirectory: config?.workingDir ?? "/src")
        if command == nil, confinement.network == .isolated {
            step.published = [PublishedPort(hostAddress: address, hostPort: port, guestPort: port)]
        } else if command != nil, confinement.network == .isolated {
            step.published = publish
        }
        if let projectDirectory {  // read-write, as Cog's volume: what the model writes there stays
            step.mounts.append(.init(source: projectDirectory, destination: "/src", readOnly: false))
        }
        for weight in weights {  // after /src, which may hold their targets
            step.mounts.append(.init(source: weight.source, destination: weight.target, readOnly: true))
        }
        step.ownProcessGroup = false  // Ctrl-C at the terminal stops the model, also during its setup()
        step.standardInput = standardInput
        step.hostGateway = hostGateway
        let (log, errors, cancel, stack) = (self.log, self.errors, self.cancel, Array(lowers.reversed()))
        let finalStep = gpus.map { $0.apply(to: step) } ?? step
        work = BackgroundWork {
            try runner.run(finalStep, lowers: stack, cancel: cancel) { line in
                log.add(RuntimeLog.readable(line))
                if let error = RuntimeLog.error(in: line) { errors.add(error) }
                echo?(line)
            }
        }
    }

    /// Waits until the command ends by itself; returns its exit status. Blocking.
    public func waitForExit() -> Int32 {
        guard let outcome = try? work.result() else { return 1 }
        runner.discard(outcome)
        return outcome.status
    }

    /// Stops the server and everything it started; removes its scratch files. Blocking.
    public func stop() {
        cancel.set()
        if let outcome = try? work.result() { runner.discard(outcome) }
    }

    private var hasExited: Bool { work.isFinished }

    /// Waits until `GET /health-check` says READY.
    public func waitUntilReady(timeout: Double, http: any HTTPTransport) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if hasExited { throw PredictError.serverExited(reason: errors.lines.last, log: log.lines) }
            // The server answers health checks at once, even while setup() runs: a check that hangs is retried.
            if let response = try? await http.send(
                HTTPRequest(
                    method: "GET", url: "\(url)/health-check",
                    timeouts: TransferTimeouts(connect: 5, reply: 10, stall: 10))),
                response.isSuccess,
                let health = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                let status = health["status"] as? String
            {
                if status == "READY" { return }
                if status == "SETUP_FAILED" || status == "DEFUNCT" {
                    // coglet's setup result holds the error; the server's output holds what setup() printed.
                    let setupLogs = ((health["setup"] as? [String: Any])?["logs"] as? String) ?? ""
                    let reason = errors.lines.last ?? setupLogs.split(separator: "\n").last.map(String.init)
                    throw PredictError.setupFailed(status: status, reason: reason, log: log.lines)
                }
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw PredictError.notReady(seconds: timeout, log: log.lines)
    }

    /// The server's address as this machine reaches it.
    public var url: String { "http://\(address == "0.0.0.0" ? "127.0.0.1" : address):\(port)" }

    /// A port on 127.0.0.1 nobody listens on now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PredictError.noFreePort(SystemCallError("socket", path: nil)) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw PredictError.noFreePort(SystemCallError("bind", path: "127.0.0.1:0")) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
