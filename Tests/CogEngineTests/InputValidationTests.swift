import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// Inputs checked against the schema as Cog's preflight checks them (`pkg/predict/input_validation.go`), in its
/// words; and what must pass: the runtime, not this check, decides what the schema does not state for certain.
struct InputValidationTests {
    /// Cog's `validationTestSchema`, and the shapes the schema generators make (choices through `allOf`, unions
    /// through `anyOf`, files as `uri` strings, secrets, `nullable` optionals, lists, `Any`, dicts).
    static let schema = #"""
        {"components": {"schemas": {
          "Mode": {"type": "string", "enum": ["fast", "slow"]},
          "Colour": {"title": "colour", "type": "string", "enum": ["rouge", "vért", "日本"]},
          "N": {"type": "integer", "enum": [1, 2, 3]},
          "Input": {"type": "object", "required": ["prompt"], "properties": {
            "prompt": {"type": "string", "minLength": 1},
            "steps": {"type": "integer", "minimum": 1, "maximum": 10},
            "ratio": {"type": "number", "minimum": 0.5},
            "flag": {"type": "boolean"},
            "nums": {"type": "array", "items": {"type": "integer"}},
            "mode": {"allOf": [{"$ref": "#/components/schemas/Mode"}]},
            "colour": {"allOf": [{"$ref": "#/components/schemas/Colour"}]},
            "n": {"allOf": [{"$ref": "#/components/schemas/N"}]},
            "opts": {"type": "object", "required": ["scale"],
                     "properties": {"scale": {"type": "number", "nullable": true}}},
            "metadata": {"type": "object", "additionalProperties": true},
            "title": {"type": "string", "maxLength": 5},
            "slug": {"type": "string", "pattern": "^[a-z]+$"},
            "named": {"type": "string", "pattern": "(?P<word>[a-z]+)"},
            "image": {"type": "string", "format": "uri"},
            "images": {"type": "array", "items": {"type": "string", "format": "uri"}},
            "token": {"type": "string", "format": "password", "writeOnly": true, "x-cog-secret": true},
            "note": {"type": "string", "nullable": true},
            "anything": {"title": "Anything"},
            "value": {"anyOf": [{"type": "string"}, {"type": "number"}]},
            "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]}
          }},
          "TrainingInput": {"type": "object", "required": ["epochs"],
                            "properties": {"epochs": {"type": "integer", "minimum": 1}}}
        }}}
        """#

    static func message(_ inputs: [String: Any], training: Bool = false) -> String? {
        do {
            try PredictionInputs.validate(inputs, schema: schema, training: training)
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Cog's `TestValidationErrorMessagesAreStable`, the integration test's cases, and non-ASCII values.
    @Test(arguments: [
        (#"{"steps": 5}"#, #"missing required input "prompt""#),
        (#"{"prompt": 10}"#, #"invalid input "prompt": expected string, got number"#),
        (#"{"prompt": "hi", "opts": {"scale": "bad"}}"#, #"invalid input "opts.scale": expected number, got string"#),
        (#"{"prompt": "hi", "opts": {}}"#, #"missing required input "opts.scale""#),
        (#"{"prompt": "hi", "mode": "medium"}"#, #"invalid input "mode": must be one of: fast, slow"#),
        (#"{"prompt": "hi", "steps": 0}"#, #"invalid input "steps": number must be at least 1"#),
        (#"{"prompt": "hi", "steps": 99}"#, #"invalid input "steps": number must be at most 10"#),
        (#"{"prompt": "hi", "steps": 2.5}"#, #"invalid input "steps": expected integer, got number"#),
        (#"{"prompt": "hi", "steps": "lots"}"#, #"invalid input "steps": expected integer, got string"#),
        (#"{"prompt": "hi", "steps": true}"#, #"invalid input "steps": expected integer, got boolean"#),
        (#"{"prompt": "hi", "flag": 1}"#, #"invalid input "flag": expected boolean, got number"#),
        (#"{"prompt": "hi", "ratio": 0.25}"#, #"invalid input "ratio": number must be at least 0.5"#),
        (#"{"prompt": "hi", "nums": [1, "x"]}"#, #"invalid input "nums.1": expected integer, got string"#),
        (
            #"{"prompt": "hi", "nums": [1, null]}"#,
            #"invalid input "nums.1": must not be null (omit the input to use its default)"#
        ),
        (#"{"prompt": "hi", "n": 4}"#, #"invalid input "n": must be one of: 1, 2, 3"#),
        (#"{"prompt": "hi", "n": "x"}"#, #"invalid input "n": must be one of: 1, 2, 3"#),
        (#"{"prompt": "hi", "colour": "blau"}"#, #"invalid input "colour": must be one of: rouge, vért, 日本"#),
        (#"{"prompt": "hi", "title": "toolong"}"#, #"invalid input "title": maximum string length is 5"#),
        (#"{"prompt": "hi", "title": "naïve!"}"#, #"invalid input "title": maximum string length is 5"#),
        (#"{"prompt": "", "title": "ok"}"#, #"invalid input "prompt": minimum string length is 1"#),
        (
            #"{"prompt": "hi", "slug": "BAD"}"#,
            #"invalid input "slug": string doesn't match the regular expression "^[a-z]+$""#
        ),
        (
            #"{"prompt": "hi", "slug": "été"}"#,
            #"invalid input "slug": string doesn't match the regular expression "^[a-z]+$""#
        ),
        (
            #"{"prompt": "hi", "steps": null}"#,
            #"invalid input "steps": must not be null (omit the input to use its default)"#
        ),
        (
            #"{"prompt": "hi", "note": null}"#,
            #"invalid input "note": must not be null (omit the input to use its default)"#
        ),
        (#"{"prompt": "hi", "value": [1]}"#, #"invalid input "value": doesn't match any schema from "anyOf""#),
        (
            #"{"prompt": 1, "steps": 0, "title": "ünïcödé"}"#,
            "input validation failed:\n- invalid input \"prompt\": expected string, got number\n- invalid input \"steps\": number must be at least 1\n- invalid input \"title\": maximum string length is 5"
        ),
        (
            #"{"steps": 0}"#,
            "input validation failed:\n- invalid input \"steps\": number must be at least 1\n- missing required input \"prompt\""
        ),
    ])
    func refusedInCogsWords(inputs: String, expected: String) throws {
        #expect(Self.message(try Self.json(inputs)) == expected)
    }

    /// What the schema allows, or does not state for certain, passes: formats are not checked, a pattern only the
    /// runtime's regular expressions read is left to it, a null where the schema allows one.
    @Test(arguments: [
        #"{"prompt": "日本語のプロンプト"}"#,
        #"{"prompt": "hi", "steps": 10, "ratio": 0.5, "flag": false, "nums": [1, 2.0]}"#,
        #"{"prompt": "hi", "title": "héllo", "slug": "abc", "colour": "日本", "mode": "slow", "n": 2}"#,
        #"{"prompt": "hi", "title": "e\u0301e\u0301e"}"#,
        #"{"prompt": "hi", "image": "data:image/png;base64,iVBORw0KGgo=", "images": ["/tmp/a b.png", "https://x/y"]}"#,
        #"{"prompt": "hi", "image": "relative/päth.png", "token": "sécret"}"#,
        #"{"prompt": "hi", "anything": null, "maybe": null, "value": "text", "named": "ANY"}"#,
        #"{"prompt": "hi", "anything": {"a": [1, null]}, "metadata": {"k": null}, "value": 1.5, "maybe": 3}"#,
        #"{"prompt": "hi", "opts": {"scale": 1, "extra": "kept"}}"#,
    ])
    func accepted(inputs: String) throws {
        #expect(Self.message(try Self.json(inputs)) == nil)
    }

    /// -i values as `parse` types them, checked the same way: a string where an integer is declared is refused,
    /// `true` typed as a boolean passes.
    @Test func typedCommandLineValues() throws {
        let inputs = try PredictionInputs.parse(
            ["prompt=hi", "steps=7", "flag=true", "nums=3", "ratio=1", "colour=vért"], schema: Self.schema)
        #expect(Self.message(inputs) == nil)
        let refused = try PredictionInputs.parse(["prompt=hi", "steps=lots"], schema: Self.schema)
        #expect(Self.message(refused) == #"invalid input "steps": expected integer, got string"#)
    }

    @Test func trainingInputsAgainstTrainingInput() throws {
        #expect(Self.message(["epochs": 0], training: true) == #"invalid input "epochs": number must be at least 1"#)
        #expect(Self.message(["epochs": 3], training: true) == nil)
        #expect(Self.message([:], training: true) == #"missing required input "epochs""#)
    }

    @Test(arguments: [
        (1.0, 6, "1"), (0.5, 6, "0.5"), (-3, 6, "-3"), (100_000, 6, "100000"), (1_000_000, 6, "1e+06"),
        (1_500_000, 6, "1.5e+06"), (1_000_000, 21, "1000000"), (1e-5, 6, "1e-05"),
    ])
    func numbersAsGoPrintsThem(value: Double, exponentFrom: Int, expected: String) {
        #expect(InputSchema.goFloat(value, exponentFrom) == expected)
    }

    /// The schema read on the host before a build: the image's Python and cog named to the static script, the
    /// trainer's merged in; nothing without a Python or for a cog the script does not mirror.
    @Test func hostSchemaBeforeTheBuild() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let python = try #require(
            path.split(separator: ":").map { "\($0)/python3" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        let yaml = "build:\n  python_version: \"3.10\"\npredict: \"predict.py:Predictor\"\ntrain: \"train.py:train\"\n"
        let files = [
            "predict.py": """
            from cog import BasePredictor, Input

            class Predictor(BasePredictor):
                def predict(self, prompt: str, note: str = None, n: int = Input(default=1, ge=1)) -> str:
                    return prompt
            """,
            "train.py": "from cog import Input\n\ndef train(epochs: int = Input(ge=1)) -> str:\n    return 'ok'\n",
        ]
        let project = try makeProject(yaml, files: files)
        let loaded = try ConfigLoader.load(projectDirectory: project.path)
        let plan = try BuildPlanner.plan(config: loaded.config, projectDirectory: project.path)
        let schema = try #require(
            HostSchema.generate(plan: plan, projectDirectory: project.path, python: python, schemaFile: nil))
        // Python 3.10's get_type_hints makes `note: str = None` Optional, whatever the host's Python.
        #expect(schema.contains(#""note":{"default":null,"nullable":true"#), "\(schema)")
        #expect(throws: Never.self) { try PredictionInputs.validate(["prompt": "日本"], schema: schema) }
        #expect(
            performing: { try PredictionInputs.validate(["epochs": 0], schema: schema, training: true) },
            throws: { "\($0)" == #"invalid input "epochs": number must be at least 1"# })
        #expect(HostSchema.generate(plan: plan, projectDirectory: project.path, python: nil, schemaFile: nil) == nil)
        let old = try makeProject(yaml.replacingOccurrences(of: "3.10", with: "3.9"), files: files)
        let oldPlan = try BuildPlanner.plan(
            config: try ConfigLoader.load(projectDirectory: old.path).config, projectDirectory: old.path)
        #expect(HostSchema.generate(plan: oldPlan, projectDirectory: old.path, python: python, schemaFile: nil) == nil)
    }
}
