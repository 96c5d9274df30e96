import ArgumentParser
import Foundation
import Layers
import OCI
import Registry

/// `cog predict`: runs one prediction in the image's filesystem, without Docker.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Run a prediction, without Docker.",
        discussion: "Without IMAGE, builds the model in the current directory first. Starts the cog runtime on a free loopback port, waits for /health-check to say READY, posts the inputs, prints text output or writes files, and stops everything.")

    @Argument(help: "An image in the local store (from cog build -t / cog push).") var image: String?
    @Option(name: .shortAndLong, help: "An input, name=value or name=@file (repeatable).") var input: [String] = []
    @Option(name: .shortAndLong, help: "Where to write a file output (default output.<ext>).") var output: String?
    @Option(name: .customLong("setup-timeout"), help: "Seconds to wait for setup() to finish.") var setupTimeout: Double = 300
    @OptionGroup var options: BuildOptions

    func run() async throws {
        UserNamespace.enterIfPossible()
        let reporter = options.reporter
        let paths = CogPaths.fromEnvironment()
        let stored: StoredImage
        if let image {
            stored = try await runReportingErrors { try LocalImages(paths: paths).load(name: image) }
        } else {
            stored = try await options.build(reporter: reporter).built.image
        }
        let schema = stored.configuration.config?.labels?["run.cog.openapi_schema"]
        let inputs = try await runReportingErrors { try PredictionInputs.parse(input, schema: schema) }
        let http = HTTPClient()
        let server = try await runReportingErrors { try ImageServer(image: stored, paths: paths) }
        defer { server.stop() }
        reporter.info("starting the model on 127.0.0.1:\(server.port)")
        let response: HTTPResponse = try await runReportingErrors {
            try await server.waitUntilReady(timeout: setupTimeout, http: http)
            let body = try JSONSerialization.data(withJSONObject: ["input": inputs])
            return try await http.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/predictions",
                                                   headers: [("Content-Type", "application/json")], body: .data(body)))
        }
        try await runReportingErrors { try PredictionOutput.handle(response, outputPath: output) }
    }
}
