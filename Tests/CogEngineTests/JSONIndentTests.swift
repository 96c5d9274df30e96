import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// `cog predict --json` prints the prediction as Cog does (Go's `json.MarshalIndent`, two spaces): Cog's own
/// integration tests match `"status": "succeeded"` and `"output": false` in it.
@Suite struct JSONIndentTests {
    func indent(_ text: String) -> String {
        String(decoding: JSONIndent.indent(Data(text.utf8)), as: UTF8.self)
    }

    @Test func asGoIndentsIt() {
        let compact = #"{"a":[1,{"b":null}],"e":{},"l":[],"s":"x","t":true}"#
        let expected = """
            {
              "a": [
                1,
                {
                  "b": null
                }
              ],
              "e": {},
              "l": [],
              "s": "x",
              "t": true
            }
            """
        #expect(indent(compact) == expected)
        #expect(indent("[]") == "[]")
        #expect(indent("3.5") == "3.5")
    }

    @Test func stringsAreCopiedAsTheyAre() {
        let compact = #"{"k":"{a:[1,2]} \"q\" \\","z":"\\"}"#
        let expected = """
            {
              "k": "{a:[1,2]} \\"q\\" \\\\",
              "z": "\\\\"
            }
            """
        #expect(indent(compact) == expected)
    }

    @Test func aPredictionPrintedWithLongStrings() throws {
        let dir = try TemporaryDirectory()
        let long = String(repeating: "ab\"c", count: 100)
        let reply: [String: Any] = ["status": "succeeded", "output": long, "metrics": [String: Any]()]
        try JSONSerialization.data(withJSONObject: reply).write(to: URL(fileURLWithPath: "\(dir.path)/r.json"))
        let body = try PredictionBody.read(path: "\(dir.path)/r.json", status: 200, threshold: 16)
        var out = [UInt8]()
        try body.writeJSON(body.object, pretty: true) { out.append(contentsOf: $0) }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("\n  \"status\": \"succeeded\""), "\(text)")
        #expect(text.contains("\"metrics\": {}"), "\(text)")
        let parsed = try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
        #expect(parsed?["output"] as? String == long)
    }
}
