import Foundation
import Layers
import OCI
import Registry

/// Runs an image's HTTP server (the cog runtime) in the sandbox on a free loopback port, and stops it. With the
/// isolated network the server listens in the sandbox's own network namespace and slirp4netns forwards
/// `host:port` to it; with the host's network it is told to listen on `host` itself.
final class ImageServer: @unchecked Sendable {
    let port: Int
    /// Where the server is published (127.0.0.1 unless `cog serve --host` says otherwise).
    let host: String
    let confinement: Confinement
    private let cancel = CancelFlag()
    private let finished = DispatchSemaphore(value: 0)
    private var outcome: StepRunner.Outcome?
    private var failure: Error?
    private let runner: StepRunner
    let log = OutputTail()

    /// Starts the image's entrypoint and command with `/src` as the working directory.
    /// - Parameters:
    ///   - projectDirectory: bind-mounted at /src instead of the image's copy (as `cog serve` and `cog run` do).
    ///   - network: `--network`; `.none` leaves nothing to publish the server on.
    init(image: StoredImage, paths: CogPaths, command: [String]? = nil, projectDirectory: String? = nil, environment: [String] = [],
         port requested: Int? = nil, host: String = "127.0.0.1", network: Confinement.Network = .isolated,
         echo: (@Sendable (String) -> Void)? = nil) throws {
        port = try requested ?? Self.freePort()
        self.host = host
        confinement = .detect(network: network)
        runner = StepRunner(sandbox: Sandbox(confinement: confinement), cacheRoot: paths.root)
        let lowers = try LayerUnpacker(store: paths.layers, blobs: paths.blobs)
            .directories(for: zip(image.manifest.layers, image.configuration.rootfs.diffIDs).map { ($0.0.digest, $0.1) })
        let config = image.configuration.config
        var argv = command ?? ((config?.entrypoint ?? []) + (config?.cmd ?? []))
        if command == nil, confinement.network == .host, argv.contains("cog.server.http") {
            argv += ["--host", host] // the runtime listens on 0.0.0.0 unless told
        }
        var step = StepRunner.Step(command: argv, environment: StepRunner.environment(config?.env ?? [], replacing: environment + ["PORT=\(port)"]),
                                   workingDirectory: config?.workingDir ?? "/src")
        if command == nil, confinement.network == .isolated {
            step.published = [PublishedPort(hostAddress: host, hostPort: port, guestPort: port)]
        }
        if let projectDirectory { step.secrets.append((projectDirectory, "/src")) }
        step.ownProcessGroup = false // Ctrl-C at the terminal stops the model, also during its setup()
        let log = self.log
        let finalStep = step, stack = Array(lowers.reversed())
        Thread.detachNewThread { [self] in
            do {
                outcome = try runner.run(finalStep, lowers: stack, cancel: cancel) { line in
                    log.add(line)
                    echo?(line)
                }
            } catch {
                failure = error
            }
            finished.signal()
        }
    }

    var hasExited: Bool {
        if finished.wait(timeout: .now()) == .success { finished.signal(); return true }
        return false
    }

    /// Waits until the command ends by itself; returns its exit status.
    func waitForExit() -> Int32 {
        finished.wait()
        finished.signal()
        if let outcome { runner.discard(outcome) }
        return outcome?.status ?? 1
    }

    /// Stops the server and everything it started; removes its scratch files.
    func stop() {
        cancel.set()
        finished.wait()
        finished.signal()
        if let outcome { runner.discard(outcome) }
    }

    /// Waits until `GET /health-check` says READY.
    func waitUntilReady(timeout: Double, http: HTTPClient) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if hasExited {
                throw BuildError.output("the model's server exited before it was ready:\n" + log.lines.map { "  \($0)" }.joined(separator: "\n"))
            }
            if let response = try? await http.send(HTTPRequest(method: "GET", url: "\(url)/health-check")),
               response.isSuccess,
               let health = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
               let status = health["status"] as? String {
                if status == "READY" { return }
                if status == "SETUP_FAILED" || status == "DEFUNCT" {
                    throw BuildError.output("the model's setup() failed (\(status)):\n" + log.lines.map { "  \($0)" }.joined(separator: "\n"))
                }
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw BuildError.output("the model's server was not ready after \(Int(timeout)) s; last output:\n" + log.lines.map { "  \($0)" }.joined(separator: "\n"))
    }

    /// The server's address as this machine reaches it.
    var url: String { "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)" }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
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
        guard bound else { throw BuildError.output("cannot find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
