import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry

/// `cog serve`: keeps the model's HTTP server up on a loopback port until interrupted, also when the model's
/// `setup()` fails (its health check then says `SETUP_FAILED`, as under Cog).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the model's HTTP API, without Docker.",
        discussion:
            "Without IMAGE, builds the model in the current directory, all but the project, and mounts the project at /src (restart to serve an edit; no rebuild). Stops on Ctrl-C, taking every process it started with it."
    )

    @Argument(help: "An image in the local store.") var image: String?
    @Option(name: .shortAndLong, help: "Port to listen on.") var port = 8393
    @Option(help: "Address to listen on (0.0.0.0 for every interface).") var host = "127.0.0.1"
    @Option(
        name: .customLong("upload-url"),
        help: "Where the runtime uploads file outputs (PUT), as in Cog; passed to the model's server.")
    var uploadURL: String?
    @OptionGroup var gpuOptions: GPUOptions
    @OptionGroup var options: BuildOptions

    func validate() throws {
        if options.networkMode == .none {
            throw ValidationError("--network none leaves the model's server unreachable; use default or host")
        }
        if let uploadURL, URL(string: uploadURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--upload-url must be an http:// or https:// URL (not \"\(uploadURL)\")")
        }
        if options.networkMode != .host,
            host.split(separator: ".").count != 4 || !host.allSatisfy({ $0.isNumber || $0 == "." })
        {
            throw ValidationError("--host must be an IPv4 address such as 127.0.0.1 or 0.0.0.0 (not \"\(host)\")")
        }
    }

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = options.reporter
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        let model = try await ModelToRun.resolve(image, options: options, reporter: reporter, paths: paths)
        defer { model.weights?.remove() }
        let (environment, port, address, network) = (
            Environment.current.variables, self.port, host, options.networkMode
        )
        let upload = uploadURL.map { ["--upload-url", $0] } ?? []
        let gpus = try await gpuOptions.edits(for: model.image, reporter: reporter)
        let server = try await runReportingErrors {
            try await Blocking.run {
                try ImageServer(
                    image: model.image, paths: paths, hostEnvironment: environment, network: network,
                    projectDirectory: model.projectDirectory, weights: model.weightBinds, gpus: gpus,
                    serverArguments: upload, address: address, port: port, hostGateway: !upload.isEmpty
                ) { reporter.output($0) }
            }
        }
        if image != nil { reportConfinement(server.confinement, reporter: reporter) }  // a build already said it
        let stop = StopSignal()
        do {
            try await server.waitUntilReady(timeout: 600, http: Environment.current.http)
            reporter.info("serving on http://\(address):\(port) (Ctrl-C stops)")
        } catch PredictError.setupFailed(let status, let reason, let log) {
            // As Cog's serve: the server stays up and says so on /health-check; a person fixes setup() and restarts.
            printError("error: \(PredictError.setupFailed(status: status, reason: reason, log: log))")
            reporter.info("still serving on http://\(address):\(port), /health-check answers \(status) (Ctrl-C stops)")
        } catch {
            try await Blocking.run { server.stop() }
            return try await runReportingErrors { throw error }
        }
        await stop.wait()
        try await Blocking.run { server.stop() }
    }
}

/// `cog run`: runs a command in the image with the project at /src.
/// `cog exec` (Cog's name) or `cog run` (its older one): a command in the image, standard input passed through.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in the image, with the project directory mounted at /src (also: cog run).",
        aliases: ["run"])

    @Option(name: .customLong("image"), help: "An image in the local store (default: build the current project).")
    var image: String?
    @Option(name: .shortAndLong, help: "An environment variable for the command, NAME=value (repeatable).") var env:
        [String] = []
    @Option(
        name: [.customShort("p"), .customLong("publish")],
        help: "Publish a port of the command on the host, PORT (on 127.0.0.1) or ADDRESS:PORT (repeatable).")
    var publish: [String] = []
    @OptionGroup var gpuOptions: GPUOptions
    @OptionGroup var options: BuildOptions
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func validate() throws { _ = try Self.published(publish) }

    func run() async throws {
        guard !command.isEmpty else {
            throw ValidationError("give a command to run, e.g. cog exec python -c 'import torch'")
        }
        if ["--help", "-h"].contains(command[0]) {  // captured as the command, since it comes before any operand
            print(CogCommand.helpMessage(for: Self.self))
            return
        }
        Environment.current.enterUserNamespaceIfPossible()
        try PredictCommand.checkEnvironment(env)
        let reporter = options.reporter
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        let model = try await ModelToRun.resolve(
            image, options: options, reporter: reporter, paths: paths, schema: false)
        defer { model.weights?.remove() }
        let (stored, weights) = (model.image, model.weightBinds)
        let (projectDirectory, _) = DebugCommand.locate(options.file)
        let ports = (try? Self.published(publish)) ?? []
        // As Cog's exec: the runtime's logs for a person to read.
        let (host, command, network, environment) = (
            Environment.current.variables, self.command, options.networkMode, env + ["LOG_FORMAT=console"]
        )
        let gpus = try await gpuOptions.edits(for: stored, reporter: reporter)
        let server = try await runReportingErrors {
            try await Blocking.run {
                try ImageServer(
                    image: stored, paths: paths, hostEnvironment: host, network: network, command: command,
                    projectDirectory: projectDirectory, weights: weights, environment: environment, gpus: gpus,
                    publish: ports,
                    standardInput: true
                ) { print($0) }
            }
        }
        if image != nil { reportConfinement(server.confinement, reporter: reporter) }  // a build already said it
        let status = try await Blocking.run { server.waitForExit() }
        if status != 0 { throw ExitCode(status) }
    }

    /// `-p` values as Cog's exec takes them: `PORT` (on 127.0.0.1, Cog's default host address) or
    /// `ADDRESS:PORT`, the same port inside. IPv4 only.
    static func published(_ values: [String]) throws -> [PublishedPort] {
        try values.map { value in
            let colon = value.lastIndex(of: ":")
            let host = colon.map { String(value[..<$0]) } ?? "127.0.0.1"
            let port = colon.map { String(value[value.index(after: $0)...]) } ?? value
            guard let number = Int(port), (1...65535).contains(number) else {
                throw ValidationError("invalid port \"\(value)\": -p takes PORT or ADDRESS:PORT, the port 1 to 65535")
            }
            guard !host.isEmpty, host.split(separator: ".").count == 4, !host.contains(":") else {
                throw ValidationError(
                    "invalid port \"\(value)\": the address must be IPv4, such as 0.0.0.0 or 127.0.0.1")
            }
            return PublishedPort(hostAddress: host, hostPort: number, guestPort: number)
        }
    }
}

/// The write end of `StopSignal`'s pipe, for its signal handler (a C function: no captures).
nonisolated(unsafe) private var stopSignalPipe: Int32 = -1

/// Waits for SIGINT or SIGTERM. A plain handler writing to a pipe, not a dispatch source: after a build (whose
/// interruption handling installed and removed dispatch sources for the same signals) a dispatch source could
/// miss the signal, delivered to a thread that did not block it while it was ignored, and `cog serve` without an
/// image kept running after SIGTERM.
final class StopSignal: Sendable {
    private let readEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        _ = ends.withUnsafeMutableBufferPointer { pipe($0.baseAddress) }
        readEnd = ends[0]
        stopSignalPipe = ends[1]
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in
                var byte: UInt8 = 1
                _ = write(stopSignalPipe, &byte, 1)
            }
        }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    func wait() async {
        let readEnd = readEnd
        _ = try? await Blocking.run {
            // This thread takes the signals too, in case every other one blocks them.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGINT)
            sigaddset(&set, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) < 0 && errno == EINTR {}
        }
    }
}
