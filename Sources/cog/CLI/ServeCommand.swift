import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry

/// `cog serve`: keeps the model's HTTP server up on a loopback port until interrupted.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the model's HTTP API, without Docker.",
        discussion:
            "Without IMAGE, builds the model in the current directory, all but the project, and mounts the project at /src (restart to serve an edit; no rebuild). Stops on Ctrl-C, taking every process it started with it."
    )

    @Argument(help: "An image in the local store.") var image: String?
    @Option(name: .shortAndLong, help: "Port to listen on.") var port = 8393
    @Option(help: "Address to listen on (0.0.0.0 for every interface).") var host = "127.0.0.1"
    @OptionGroup var gpuOptions: GPUOptions
    @OptionGroup var options: BuildOptions

    func validate() throws {
        if options.networkMode == .none {
            throw ValidationError("--network none leaves the model's server unreachable; use default or host")
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
        let (environment, port, address, network) = (
            Environment.current.variables, self.port, host, options.networkMode
        )
        let gpus = try await gpuOptions.edits(for: model.image, reporter: reporter)
        let server = try await runReportingErrors {
            try await Blocking.run {
                try ImageServer(
                    image: model.image, paths: paths, hostEnvironment: environment, network: network,
                    projectDirectory: model.projectDirectory, gpus: gpus, address: address, port: port
                ) { reporter.output($0) }
            }
        }
        if image != nil { reportConfinement(server.confinement, reporter: reporter) }  // a build already said it
        let stop = StopSignal()
        try await runReportingErrors { try await server.waitUntilReady(timeout: 600, http: Environment.current.http) }
        reporter.info("serving on http://\(address):\(port) (Ctrl-C stops)")
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
        for item in env where !item.contains("=") || item.hasPrefix("=") {
            throw ValidationError("-e takes NAME=value, not \"\(item)\"")
        }
        let reporter = options.reporter
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        let stored = try await ModelToRun.resolve(
            image, options: options, reporter: reporter, paths: paths, schema: false
        ).image
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
                    projectDirectory: projectDirectory, environment: environment, gpus: gpus, publish: ports,
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

/// Waits for SIGINT or SIGTERM.
final class StopSignal: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [continuation] in continuation.yield() }
            source.resume()
            sources.append(source)
        }
    }

    func wait() async {
        for await _ in stream { return }
    }
}
