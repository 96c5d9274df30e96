import Foundation
import Layers
import OCI

/// Reads facts from the built filesystem by running Python inside it: installed packages and the predictor's
/// OpenAPI schema (with the image's own `cog` package, so the schema is exactly what the runtime serves).
struct Introspection {
    let runner: StepRunner
    /// Set when steps run in a full copy of the tree (no overlayfs here).
    let flat: FlatTree?
    /// Set by Ctrl-C: the running command is stopped and the build ends as interrupted.
    var cancel = CancelFlag()

    /// `python -m pip freeze`, as Cog records it in `run.cog.pip_freeze`.
    func pipFreeze(state: BuildState) throws -> String {
        try capture(["/bin/sh", "-c", "python -m pip freeze 2>/dev/null"], state: state, workingDirectory: "/", what: "pip freeze")
    }

    /// The OpenAPI schema the runtime serves for the predictor in /src (`Data/openapi_schema.py`, run with the
    /// image's own cog package). Errors in the predictor (a failing import) fail the build with its output.
    func openAPISchema(state: BuildState, plan: BuildPlan) throws -> String {
        guard let stub = plan.image.env.first(where: { $0.name == "COG_PREDICT_TYPE_STUB" })?.value, !stub.isEmpty else {
            throw BuildError.schema("cog.yaml names no predictor (predict: \"predict.py:Predictor\")")
        }
        guard let url = Bundle.module.url(forResource: "openapi_schema", withExtension: "py", subdirectory: "Data"),
              let script = try? String(contentsOf: url, encoding: .utf8) else {
            throw BuildError.schema("the schema generator is missing from this installation of cog")
        }
        // stderr goes to a file that is shown only on failure, so warnings cannot corrupt the JSON.
        let command = "python -c \"$COG_SCHEMA_SCRIPT\" \"$1\" \"$2\" 2>/tmp/cog-schema.err || { cat /tmp/cog-schema.err; exit 1; }"
        let output = try capture(["/bin/sh", "-c", command, "schema", stub, CogCommand.version], state: state, workingDirectory: "/src",
                                 what: "OpenAPI schema of \(stub)", extraEnvironment: ["COG_SCHEMA_SCRIPT=\(script)"])
        let json = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = json.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) != nil else {
            throw BuildError.schema("the generator printed something that is not JSON:\n\(json.suffix(2000))")
        }
        return json
    }

    private func capture(_ command: [String], state: BuildState, workingDirectory: String, what: String,
                         extraEnvironment: [String] = []) throws -> String {
        let collected = OutputTail.Unbounded()
        let step = StepRunner.Step(command: command, environment: state.environmentList + extraEnvironment, workingDirectory: workingDirectory)
        let outcome: StepRunner.Outcome
        if let flat {
            try flat.catchUp(with: state.layers)
            outcome = try runner.runInPlace(step, root: flat.path, cancel: cancel) { collected.add($0) }
        } else {
            outcome = try runner.run(step, lowers: state.lowerDirectories, cancel: cancel) { collected.add($0) }
            runner.discard(outcome)
        }
        guard outcome.status == 0 else {
            if cancel.isSet { throw BuildError.interrupted }
            throw BuildError.stepFailed(step: what, status: outcome.status, lastLines: Array(collected.lines.suffix(25)))
        }
        return collected.lines.joined(separator: "\n") + "\n"
    }
}

extension OutputTail {
    /// Every line, for output that is the step's result.
    final class Unbounded: @unchecked Sendable {
        private let lock = NSLock()
        private var buffer: [String] = []
        func add(_ line: String) { lock.lock(); buffer.append(line); lock.unlock() }
        var lines: [String] { lock.lock(); defer { lock.unlock() }; return buffer }
    }
}
