import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// Prediction replies of any size: long strings stay in the reply file and come out in pieces, identical to what
/// a whole-document parse gives.
@Suite struct PredictionBodyTests {
    /// Parses `object` with a small threshold (keys and short values stay under it), and reads it back.
    func roundTrip(_ object: [String: Any], threshold: Int, chunkSize: Int = 1 << 20) throws -> (
        PredictionBody, TemporaryDirectory
    ) {
        let dir = try TemporaryDirectory()
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(dir.path)/reply.json"))
        return (
            try PredictionBody.read(
                path: "\(dir.path)/reply.json", status: 200, threshold: threshold, chunkSize: chunkSize), dir
        )
    }

    @Test(arguments: [16, 64, 1024], [1, 3, 4096])
    func longStringsComeBackByteForByte(threshold: Int, chunkSize: Int) throws {
        let tricky = "quote \" backslash \\ slash / tab \t newline \n é 日本 🙂 \u{1} end\\"
        let long = String(repeating: tricky, count: 50)
        let object: [String: Any] = [
            "status": "succeeded", "output": long, "logs": String(repeating: "line\n", count: 300),
            "metrics": ["predict_time": 1.5], "list": [long, "short"],
        ]
        let (body, directory) = try roundTrip(object, threshold: threshold, chunkSize: chunkSize)
        defer { withExtendedLifetime(directory) {} }
        let parsed = try #require(body.object as? [String: Any])
        #expect(parsed["status"] as? String == "succeeded")
        #expect(body.spilled(parsed["output"]) != nil, "a string over the threshold stays in the file")
        for (value, expected) in [(parsed["output"], long), ((parsed["list"] as? [Any])?.first, long)] {
            if let spill = body.spilled(value) {
                var bytes = [UInt8]()
                try spill.forEachChunk { bytes += $0 }
                #expect(String(decoding: bytes, as: UTF8.self) == expected)
            } else {
                #expect(value as? String == expected)
            }
        }
        // Written back as JSON, the long strings are spliced in and the document is the same.
        var out = Data()
        try body.writeJSON(parsed, pretty: true) { out.append(contentsOf: $0) }
        let reread = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
        #expect(reread["output"] as? String == long)
        #expect((reread["list"] as? [String])?.first == long)
        #expect(reread["logs"] as? String == object["logs"] as? String)
    }

    @Test func aDataURLIsDecodedInPieces() throws {
        let payload = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let object: [String: Any] = [
            "status": "succeeded", "output": "data:image/png;base64," + payload.base64EncodedString(),
        ]
        let (body, dir) = try roundTrip(object, threshold: 1000)
        let spill = try #require(body.spilled((body.object as? [String: Any])?["output"]))
        #expect(try spill.writeDataURL(to: "\(dir.path)/out") == "image/png")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir.path)/out")) == payload)
    }

    @Test func unescapingSurvivesEveryCut() {
        let raw = Array(#"a\"b\\c\u00e9\ud83d\ude42\n\/z"#.utf8)
        for cut in 0...raw.count {
            var unescaper = JSONUnescaper()
            var out = raw[..<cut].withUnsafeBytes { unescaper.feed($0) }
            out += raw[cut...].withUnsafeBytes { unescaper.feed($0) }
            #expect(String(decoding: out, as: UTF8.self) == "a\"b\\cé🙂\n/z", "cut at \(cut)")
        }
    }

    @Test func notJSONSaysWhatCame() throws {
        let dir = try TemporaryDirectory()
        try dir.write("reply", "<html>Bad Gateway</html>")
        #expect(throws: PredictError.self) { try PredictionBody.read(path: "\(dir.path)/reply", status: 502) }
    }

    @Test func unknownInputsInCogsWords() throws {
        let schema = #"{"components":{"schemas":{"Input":{"properties":{"b":{},"a":{}}}}}}"#
        #expect(throws: Never.self) { try PredictionInputs.validate(["a": 1], schema: schema) }
        for (inputs, message) in [
            (["nosuch": 1], #"unknown input "nosuch"; valid inputs are: a, b"#),
            (["y": 1, "x": 2], #"unknown inputs "x", "y"; valid inputs are: a, b"#),
        ] {
            #expect(
                performing: { try PredictionInputs.validate(inputs, schema: schema) }, throws: { "\($0)" == message })
        }
        let none = #"{"components":{"schemas":{"Input":{"properties":{}}}}}"#
        #expect(
            performing: { try PredictionInputs.validate(["x": 1], schema: none) },
            throws: {
                "\($0)" == #"unknown input "x"; model does not accept inputs"#
            })
        #expect(throws: Never.self) { try PredictionInputs.validate(["x": 1], schema: nil) }
    }

    @Test func theTrainersSchemaIsMergedUnderTrainingNames() throws {
        func document(_ input: String) -> String {
            ##"{"components":{"schemas":{"Input":{"title":"Input","properties":{"\##(input)":{}}},"Output":{"title":"Output"},"PredictionRequest":{"properties":{"input":{"$ref":"#/components/schemas/Input"}}}}},"paths":{"/predictions":{"post":{"summary":"Predict","x-cog-streaming":true}},"/predictions/{prediction_id}/cancel":{"post":{"operationId":"x"}}}}"##
        }
        let merged = try TrainingSchema.merge(predict: document("prompt"), train: document("steps"))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(merged.utf8)) as? [String: Any])
        let schemas = try #require((root["components"] as? [String: Any])?["schemas"] as? [String: Any])
        #expect(
            schemas.keys.sorted() == [
                "Input", "Output", "PredictionRequest", "TrainingInput", "TrainingOutput", "TrainingRequest",
            ])
        let training = try #require(schemas["TrainingInput"] as? [String: Any])
        #expect(training["title"] as? String == "TrainingInput")
        #expect((training["properties"] as? [String: Any])?.keys.sorted() == ["steps"])
        #expect(merged.contains(##""input":{"$ref":"#/components/schemas/TrainingInput"}"##))
        #expect(merged.contains(##""input":{"$ref":"#/components/schemas/Input"}"##))
        let paths = try #require(root["paths"] as? [String: Any])
        #expect(
            paths.keys.sorted() == [
                "/predictions", "/predictions/{prediction_id}/cancel", "/trainings", "/trainings/{training_id}/cancel",
            ])
        // Predictions may stream (the predictor is marked cog.streaming); trainings never do, as in Cog.
        let post = { (path: String) in ((paths[path] as? [String: Any])?["post"] as? [String: Any]) ?? [:] }
        #expect(post("/predictions")["x-cog-streaming"] as? Bool == true)
        #expect(post("/trainings")["x-cog-streaming"] == nil)
        // A training's inputs are checked against TrainingInput.
        #expect(throws: Never.self) { try PredictionInputs.validate(["steps": 1], schema: merged, training: true) }
        #expect(
            performing: { try PredictionInputs.validate(["prompt": 1], schema: merged, training: true) },
            throws: { "\($0)" == #"unknown input "prompt"; valid inputs are: steps"# })
    }

    @Test func missingRequiredInputsInCogsWords() throws {
        let schema = #"{"components":{"schemas":{"Input":{"properties":{"s":{},"t":{},"u":{}},"required":["t","s"]}}}}"#
        #expect(throws: Never.self) { try PredictionInputs.validate(["s": 1, "t": 2], schema: schema) }
        for (inputs, message) in [
            (["t": 1], #"missing required input "s""#),
            // In the schema's order, as kin-openapi walks `required`.
            (["u": 1], "input validation failed:\n- missing required input \"t\"\n- missing required input \"s\""),
            (["wrong": 1], #"unknown input "wrong"; valid inputs are: s, t, u"#),
        ] {
            #expect(
                performing: { try PredictionInputs.validate(inputs, schema: schema) }, throws: { "\($0)" == message })
        }
    }

    @Test func runtimeRecordsAreReadable() {
        let record =
            #"{"timestamp":"t","level":"ERROR","fields":{"message":"Worker initialization failed","error":"RuntimeError: weights.bin is missing"},"target":"coglet"}"#
        #expect(
            RuntimeLog.readable(record) == "ERROR Worker initialization failed RuntimeError: weights.bin is missing")
        #expect(RuntimeLog.error(in: record) == "RuntimeError: weights.bin is missing")
        #expect(RuntimeLog.readable("plain text") == "plain text")
        #expect(RuntimeLog.error(in: #"{"level":"INFO","fields":{"message":"x"}}"#) == nil)
    }
}
