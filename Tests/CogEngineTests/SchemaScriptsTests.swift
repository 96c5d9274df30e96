import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// The two schema generators the build runs (`Data/openapi_schema_static.py` first, `Data/openapi_schema.py`
/// as its fallback) with a real cog from PyPI in a virtual environment: the same bytes on every case the static
/// one reads, exit status 3 where it cannot, and cog 0.16 (what Python 3.8 and 3.9 get) served by the fallback.
@Suite(.serialized) struct SchemaScriptsTests {
    static let data = "\(packageRoot)/Sources/cog/Engine/Data"
    static let cases = "\(packageRoot)/testdata/schema-cases"

    /// A virtual environment with `cog==version` from PyPI.
    static func environment(cog version: String, in dir: TemporaryDirectory) throws -> String {
        let venv = "\(dir.path)/venv-\(version)"
        let made = try runCommand(["python3", "-m", "venv", venv])
        guard made.status == 0 else { throw TestSetupError("python3 -m venv: \(made.output)") }
        let install = try runCommand(["\(venv)/bin/pip", "install", "-q", "cog==\(version)"])
        guard install.status == 0 else { throw TestSetupError("pip install cog==\(version): \(install.output)") }
        return "\(venv)/bin/python"
    }

    /// Runs a generator as the build does (`python -c SCRIPT REF VERSION` in the project directory).
    static func run(_ script: String, python: String, in directory: String) throws -> CommandResult {
        let ref =
            (try? String(contentsOfFile: "\(directory)/ref", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines) ?? "predict.py:Predictor"
        let text = try String(contentsOfFile: "\(data)/\(script).py", encoding: .utf8)
        return try runCommand(
            [python, "-c", text, ref, "0.0.1-test"], environment: ["PYTHONDONTWRITEBYTECODE": "1"],
            directory: directory)
    }

    /// The message a `refuse_` case's `refused` file names.
    static func expectedRefusal(in directory: String) throws -> String {
        try String(contentsOfFile: "\(directory)/refused", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    @Test func staticAndImportBasedSchemasAreIdentical() throws {
        let dir = try TemporaryDirectory("schema-scripts")
        let python = try Self.environment(cog: CogRuntime.newest, in: dir)
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.cases).sorted()
        #expect(names.count >= 20)
        var identical = 0
        for name in names {
            let directory = "\(Self.cases)/\(name)"
            let fromSource = try Self.run("openapi_schema_static", python: python, in: directory)
            if name.hasPrefix("fb_") {
                #expect(fromSource.status == 3, "\(name) must fall back: \(fromSource.output)")
                #expect(fromSource.stderr.hasPrefix("static schema: "), "\(name): \(fromSource.stderr)")
                continue
            }
            if name.hasPrefix("refuse_") {  // what Cog's static parser refuses fails the build: no fallback
                #expect(fromSource.status == 4, "\(name) must be refused: \(fromSource.output)")
                #expect(fromSource.stderr.contains(try Self.expectedRefusal(in: directory)), "\(fromSource.stderr)")
                continue
            }
            let imported = try Self.run("openapi_schema", python: python, in: directory)
            #expect(fromSource.status == 0 && imported.status == 0, "\(name): \(fromSource.output) \(imported.output)")
            #expect(fromSource.stdout == imported.stdout, "\(name) differs")
            if fromSource.status == 0 && fromSource.stdout == imported.stdout { identical += 1 }
        }
        #expect(identical == names.filter { !$0.hasPrefix("fb_") && !$0.hasPrefix("refuse_") }.count)
        // The import-based script refuses accept= on an input that is no file too (it never sees an unread import).
        let accept = try Self.run("openapi_schema", python: python, in: "\(Self.cases)/refuse_accept_on_str")
        #expect(accept.status != 0 && accept.stderr.contains("accept is only valid on Path or File inputs"))
        // cog.streaming (imported by name, or used as cog.streaming) puts x-cog-streaming on the predictions
        // operation, which is what lets coglet accept SSE clients; without an iterator output both refuse it.
        let streaming = try Self.run("openapi_schema", python: python, in: "\(Self.cases)/decorators")
        #expect(streaming.stdout.contains(#""x-cog-streaming":true"#), "\(streaming.output)")
        let plain = try Self.run("openapi_schema", python: python, in: "\(Self.cases)/basic_predict")
        #expect(plain.status == 0 && !plain.stdout.contains("x-cog-streaming"))
        let notIterator = try Self.run(
            "openapi_schema", python: python, in: "\(Self.cases)/refuse_streaming_without_iterator")
        #expect(notIterator.status != 0 && notIterator.stderr.contains("@streaming requires Iterator[...]"))
        // A print at import and cog's warning about `-> Any` go to stderr: the import-based output is the JSON.
        let printing = try Self.run("openapi_schema", python: python, in: "\(Self.cases)/module_print")
        #expect(printing.stdout.hasPrefix("{") && printing.stderr.contains("loading model code"))
        let any = try Self.run("openapi_schema", python: python, in: "\(Self.cases)/out_any")
        #expect(any.stdout.hasPrefix("{"), "\(any.output)")
    }

    /// cog 0.16 has no `cog._adt`: the static script declines it and the fallback runs cog 0.16's own generator.
    @Test func cog016IsServedByTheFallback() throws {
        let dir = try TemporaryDirectory("schema-cog016")
        let python = try Self.environment(cog: CogRuntime.newestForPython38, in: dir)
        let project = try dir.write(
            "project/predict.py",
            try String(contentsOfFile: "\(Self.cases)/basic_predict/predict.py", encoding: .utf8))
        let directory = (project as NSString).deletingLastPathComponent
        try dir.write("project/cog.yaml", "predict: \"predict.py:Predictor\"\n")
        let fromSource = try Self.run("openapi_schema_static", python: python, in: directory)
        #expect(fromSource.status == 3 && fromSource.stderr.contains("cog 0.16.12"), "\(fromSource.output)")
        let imported = try Self.run("openapi_schema", python: python, in: directory)
        #expect(imported.status == 0, "\(imported.output)")
        let schema = try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any]
        let input = ((schema?["components"] as? [String: Any])?["schemas"] as? [String: Any])?["Input"]
        let properties = (input as? [String: Any])?["properties"] as? [String: Any]
        let names = Set((properties ?? [:]).keys)
        #expect(names.isSuperset(of: ["prompt", "steps", "seed"]), "\(imported.stdout)")
    }
}
