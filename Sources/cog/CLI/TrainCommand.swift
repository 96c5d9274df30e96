import ArgumentParser
import CogEngine
import Foundation
import OCI

/// `cog train`: runs one training (the image's `train:`, baked in as `COG_TRAIN_TYPE_STUB`) as Cog does: the runtime
/// started with `--x-mode train`, the inputs posted to `/trainings`, the output written to `-o` (default `weights`).
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Run a training, without Docker.",
        discussion:
            "Without IMAGE, builds the model in the current directory, all but the project, and mounts the project at /src. Inputs are checked against the schema's TrainingInput. The output is written to -o: a file output decoded, text as it is, anything else as JSON."
    )

    @Argument(help: "An image in the local store (from cog build -t / cog push).") var image: String?
    @Option(name: .shortAndLong, help: "An input, name=value or name=@file (repeatable).") var input: [String] = []
    @Option(name: .shortAndLong, help: "An environment variable for the model, NAME=value (repeatable).") var env:
        [String] = []
    @Option(name: .shortAndLong, help: "Where to write the training's output.") var output = "weights"
    @Option(name: .customLong("setup-timeout"), help: "Seconds to wait for setup() to finish.") var setupTimeout:
        Double = 300
    @OptionGroup var gpuOptions: GPUOptions
    @OptionGroup var options: BuildOptions

    func validate() throws {
        if options.networkMode == .none {
            throw ValidationError("--network none leaves the model's server unreachable; use default or host")
        }
        try PredictCommand.checkEnvironment(env)
    }

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = options.reporter
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        var early: (schema: String, inputs: [String: Any])?
        let model = try await ModelToRun.resolve(image, options: options, reporter: reporter, paths: paths) {
            schema in early = (schema, try await runReportingErrors { try checkedInputs(schema: schema) })
        }
        defer { model.weights?.remove() }  // also when the inputs or the model's start fail
        let stored = model.image
        let inputs = try await runReportingErrors {
            guard Self.hasTrainer(stored) else { throw CommandError.invalidSetting(Self.noTrainer) }
            if let early, early.schema == model.schema { return early.inputs }
            return try checkedInputs(schema: model.schema)
        }
        let replyFile = "\(paths.scratch)/training-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        defer { FileSystem.remove(replyFile) }
        let response = try await PredictCommand.post(
            inputs, to: "/trainings", model: model, paths: paths, environment: env, options: options,
            gpus: try await gpuOptions.edits(for: stored, reporter: reporter), setupTimeout: setupTimeout,
            serverArguments: ["--x-mode", "train"], reportConfinement: image != nil, replyFile: replyFile,
            showOutput: true)
        let path = output
        try await runReportingErrors {
            try await Blocking.run {
                let body = try PredictionBody.read(path: replyFile, status: response.status)
                try PredictionOutput.writeTraining(body, status: response.status, to: path)
            }
        }
    }

    /// The -i inputs typed by `schema`'s `TrainingInput` and checked against it as Cog checks them.
    func checkedInputs(schema: String?) throws -> [String: Any] {
        let inputs = try PredictionInputs.parse(input, schema: schema, training: true)
        try PredictionInputs.validate(inputs, schema: schema, training: true)
        return inputs
    }

    static let noTrainer =
        "this image has no trainer: add train: \"train.py:train\" to cog.yaml (Cog bakes it in as COG_TRAIN_TYPE_STUB) and build again"

    /// Whether the image names a trainer (`COG_TRAIN_TYPE_STUB`, as Cog bakes `train:` in).
    static func hasTrainer(_ image: StoredImage) -> Bool {
        (image.configuration.config?.env ?? []).contains { $0.hasPrefix("COG_TRAIN_TYPE_STUB=") && $0.count > 20 }
    }
}

extension PredictionOutput {
    /// A training's output written to `path`, as Cog writes it: a file (data URL) decoded, text as it is, anything
    /// else as indented JSON; a training that did not succeed is an error.
    static func writeTraining(_ body: PredictionBody, status: Int, to path: String) throws {
        let object = try prediction(body, status: status)
        try checkSucceeded(object, body: body, status: status)
        let output = object["output"] ?? NSNull()
        if output is NSNull {
            FileHandle.standardError.write(Data("warning: No output generated\n".utf8))
            return
        }
        try FileSystem.writeAtomically(to: path) { temporary in
            let spilled = body.spilled(output)
            if let spilled, try spilled.prefix(5) == "data:" {
                _ = try spilled.writeDataURL(to: temporary)
                return
            }
            let file = try FileStream.create(temporary)
            if let spilled {
                try spilled.forEachChunk { try file.write($0) }
            } else if let text = output as? String {
                try file.write(Self.decodedDataURL(text) ?? Data(text.utf8))
            } else {
                try body.writeJSON(output, pretty: true) { try file.write($0) }
                try file.write(Data("\n".utf8))
            }
            try file.close()
        }
        FileHandle.standardError.write(Data("Written output to: \(path)\n".utf8))
    }

    /// The bytes of a `data:…;base64,…` URL, else nil.
    private static func decodedDataURL(_ text: String) -> Data? {
        guard text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") else { return nil }
        return Data(base64Encoded: String(text[text.index(after: comma)...]))
    }
}
