import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry
import Synchronization

/// `cog predict`: runs one prediction in the image's filesystem, without Docker.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Run a prediction, without Docker.",
        discussion:
            "Without IMAGE, builds the model in the current directory, all but the project, and mounts the project at /src (an edit needs no rebuild). Starts the cog runtime on a free loopback port, waits for /health-check to say READY, posts the inputs, prints text output or writes files, and stops everything."
    )

    @Argument(help: "An image in the local store (from cog build -t / cog push).") var image: String?
    @Option(name: .shortAndLong, help: "An input, name=value or name=@file (repeatable).") var input: [String] = []
    @Option(
        help:
            "All inputs as a JSON object: '{\"name\": …}', @file.json, or @- (or -) for standard input (instead of -i). The whole prediction is then printed as JSON, or written to -o."
    )
    var json: String?
    @Option(name: .shortAndLong, help: "An environment variable for the model, NAME=value (repeatable).") var env:
        [String] = []
    @Option(
        name: .shortAndLong,
        help: "Where to write a file output (default output.<ext>; with --json, the prediction's JSON).")
    var output: String?
    @Option(name: .customLong("setup-timeout"), help: "Seconds to wait for setup() to finish.") var setupTimeout:
        Double = 300
    @OptionGroup var gpuOptions: GPUOptions
    @OptionGroup var options: BuildOptions

    func validate() throws {
        if options.networkMode == .none {
            throw ValidationError("--network none leaves the model's server unreachable; use default or host")
        }
        if json != nil && !input.isEmpty {
            throw ValidationError("give the inputs either with -i or with --json, not both")
        }
        if json != nil, let output, !output.hasSuffix(".json") {
            printError(
                "warning: --output value does not have a .json suffix: \((output as NSString).lastPathComponent)")
        }
        try Self.checkEnvironment(env)
    }

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = options.reporter
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        // --json is read once (it may be standard input), before anything is built.
        let given = try await runReportingErrors { try json.map(PredictionInputs.parseJSON) }
        var early: (schema: String, inputs: [String: Any])?
        let model = try await ModelToRun.resolve(image, options: options, reporter: reporter, paths: paths) {
            schema in early = (schema, try await runReportingErrors { try checkedInputs(given, schema: schema) })
        }
        defer { model.weights?.remove() }  // also when the inputs or the model's start fail
        let stored = model.image
        let inputs = try await runReportingErrors {
            if let early, early.schema == model.schema { return early.inputs }
            return try checkedInputs(given, schema: model.schema)
        }
        let replyFile = "\(paths.scratch)/prediction-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        defer { FileSystem.remove(replyFile) }
        let response = try await Self.post(
            inputs, to: "/predictions", model: model, paths: paths, environment: env, options: options,
            gpus: try await gpuOptions.edits(for: stored, reporter: reporter), setupTimeout: setupTimeout,
            reportConfinement: image != nil, replyFile: replyFile)
        let (jsonMode, outputPath) = (json != nil, output)
        try await runReportingErrors {
            try await Blocking.run {
                let body = try PredictionBody.read(path: replyFile, status: response.status)
                if jsonMode, let outputPath {
                    try PredictionOutput.writePrediction(body, status: response.status, to: outputPath)
                } else if jsonMode {
                    try PredictionOutput.printPrediction(body, status: response.status)
                } else {
                    try PredictionOutput.handle(body, status: response.status, outputPath: outputPath)
                }
            }
        }
    }
}

extension PredictCommand {
    /// The inputs (`given` by --json, else -i typed by `schema`) checked against `schema` as Cog checks them.
    func checkedInputs(_ given: [String: Any]?, schema: String?) throws -> [String: Any] {
        let inputs = try given ?? PredictionInputs.parse(input, schema: schema)
        try PredictionInputs.validate(inputs, schema: schema)
        return inputs
    }

    /// Starts the model's server (with `serverArguments`), waits for READY, posts `inputs` to `endpoint`
    /// (`/predictions`, `/trainings`) and stops it; the reply streams into `replyFile`.
    /// - Parameters:
    ///   - reportConfinement: say how the model is confined (when no build said it already).
    ///   - showOutput: show the model's output (its setup() prints) as it comes, as Cog shows the container's logs.
    static func post(
        _ inputs: [String: Any], to endpoint: String, model: ModelToRun, paths: CogPaths, environment: [String],
        options: BuildOptions, gpus: GPUEdits?, setupTimeout: Double, serverArguments: [String] = [],
        reportConfinement confinement: Bool, replyFile: String, showOutput: Bool = false
    ) async throws -> HTTPResponse {
        let reporter = options.reporter
        let http = Environment.current.http
        let (host, network) = (Environment.current.variables, options.networkMode)
        let echo: (@Sendable (String) -> Void)? =
            showOutput ? { @Sendable line in reporter.output(RuntimeLog.readable(line)) } : nil
        let server = try await runReportingErrors {
            try await Blocking.run {
                try ImageServer(
                    image: model.image, paths: paths, hostEnvironment: host, network: network,
                    projectDirectory: model.projectDirectory, weights: model.weightBinds, environment: environment,
                    gpus: gpus, serverArguments: serverArguments,
                    echo: echo)
            }
        }
        if confinement { reportConfinement(server.confinement, reporter: reporter) }
        reporter.info("starting the model on 127.0.0.1:\(server.port)")
        // The reply streams to a file, whatever its size (a large file output, megabytes of logs).
        let answer: Result<HTTPResponse, Error>
        do {
            try await server.waitUntilReady(timeout: setupTimeout, http: http)
            let body = try JSONSerialization.data(withJSONObject: ["input": inputs])
            let request = HTTPRequest(
                method: "POST", url: "\(server.url)\(endpoint)",
                headers: [("Content-Type", "application/json")], body: .data(body))
            try FileSystem.makeDirectory(paths.scratch)
            let sink = ReplyFile(path: replyFile)
            let response = try await http.send(request, into: { sink.destination() })
            try sink.finish(response)
            answer = .success(response)
        } catch {
            answer = .failure(error)
        }
        try await Blocking.run { server.stop() }
        model.weights?.remove()
        return try await runReportingErrors { try answer.get() }
    }
}

/// The file a prediction reply streams into: a successful reply is written as it arrives; any other one, which
/// the transport collects in memory, is written once it is complete.
final class ReplyFile: Sendable {
    let path: String
    /// The open file's descriptor while a reply streams in, else -1.
    private let descriptor = Mutex<Int32>(-1)

    init(path: String) { self.path = path }

    /// Where the transport sends a reply body: each attempt starts the file anew.
    func destination() -> ResponseDestination {
        .stream { [self] _, bytes in
            try descriptor.withLock { fd in
                if fd < 0 {
                    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                    guard fd >= 0 else { throw OCIError.system(SystemCallError("create", path: path)) }
                }
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw OCIError.system(SystemCallError("write", path: path)) }
                    offset += n
                }
            }
        }
    }

    /// Closes the file, or writes the body the transport kept in memory.
    func finish(_ response: HTTPResponse) throws {
        let streamed = descriptor.withLock { fd -> Bool in
            defer { fd = -1 }
            guard fd >= 0 else { return false }
            close(fd)
            return true
        }
        if !streamed { try FileSystem.writeAtomically(response.body, to: path) }
    }
}

extension PredictCommand {
    /// The `-e NAME=value` items of `predict`, `train`, `serve` and `exec`: a name without spaces, then `=`.
    static func checkEnvironment(_ items: [String]) throws {
        for item in items {
            let name = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard item.contains("="), !name.isEmpty, !name.contains(" ") else {
                throw ValidationError("-e takes NAME=value, not \"\(item)\"")
            }
        }
    }
}
