import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry

/// `cog predict`: runs one prediction in the image's filesystem, without Docker.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Run a prediction, without Docker.",
        discussion:
            "Without IMAGE, builds the model in the current directory first. Starts the cog runtime on a free loopback port, waits for /health-check to say READY, posts the inputs, prints text output or writes files, and stops everything."
    )

    @Argument(help: "An image in the local store (from cog build -t / cog push).") var image: String?
    @Option(name: .shortAndLong, help: "An input, name=value or name=@file (repeatable).") var input: [String] = []
    @Option(
        help:
            "All inputs as a JSON object: '{\"name\": …}', @file.json, or @- for standard input (instead of -i). The whole prediction is then written as JSON to -o (default output.json)."
    )
    var json: String?
    @Option(name: .shortAndLong, help: "An environment variable for the model, NAME=value (repeatable).") var env:
        [String] = []
    @Option(name: .shortAndLong, help: "Where to write a file output (default output.<ext>; with --json, output.json).")
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
        for item in env
        where !(item.split(separator: "=", maxSplits: 1).first.map { !$0.isEmpty && !$0.contains(" ") } ?? false)
            || !item.contains("=")
        {
            throw ValidationError("-e takes NAME=value, not \"\(item)\"")
        }
    }

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = options.reporter
        let paths = Environment.current.paths
        let stored: StoredImage
        if let image {
            stored = try await runReportingErrors { try LocalImages(paths: paths).load(name: image) }
        } else {
            stored = try await options.build(reporter: reporter).built.image
        }
        let schema = stored.configuration.config?.labels?["run.cog.openapi_schema"]
        let inputs = try await runReportingErrors {
            try json.map(PredictionInputs.parseJSON) ?? PredictionInputs.parse(input, schema: schema)
        }
        let http = Environment.current.http
        let (host, environment, network) = (Environment.current.variables, env, options.networkMode)
        let gpus = try await gpuOptions.edits(for: stored, reporter: reporter)
        let server = try await runReportingErrors {
            try await Blocking.run {
                try ImageServer(
                    image: stored, paths: paths, hostEnvironment: host, network: network, environment: environment,
                    gpus: gpus)
            }
        }
        if image != nil { reportConfinement(server.confinement, reporter: reporter) }  // a build already said it
        reporter.info("starting the model on 127.0.0.1:\(server.port)")
        let answer: Result<HTTPResponse, Error>
        do {
            try await server.waitUntilReady(timeout: setupTimeout, http: http)
            let body = try JSONSerialization.data(withJSONObject: ["input": inputs])
            answer = .success(
                try await http.send(
                    HTTPRequest(
                        method: "POST", url: "\(server.url)/predictions",
                        headers: [("Content-Type", "application/json")], body: .data(body))))
        } catch {
            answer = .failure(error)
        }
        try await Blocking.run { server.stop() }
        let response = try await runReportingErrors { try answer.get() }
        if json != nil {
            try await runReportingErrors { try PredictionOutput.writePrediction(response, to: output ?? "output.json") }
        } else {
            try await runReportingErrors { try PredictionOutput.handle(response, outputPath: output) }
        }
    }
}
