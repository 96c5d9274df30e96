import Foundation
import Testing

@testable import CogEngine

/// `-i name=value` typed by the OpenAPI schema as Cog types it (`pkg/predict/input.go`), in the shapes the
/// runtime's schema takes: choices as `allOf: [{$ref}]` to an enum, unions as `anyOf`.
struct PredictionInputsTests {
    static let schema = """
        {"components": {"schemas": {
          "N": {"type": "integer", "enum": [1, 2, 3]},
          "Color": {"type": "string", "enum": ["red", "blue"]},
          "Input": {"type": "object", "properties": {
            "n": {"allOf": [{"$ref": "#/components/schemas/N"}]},
            "color": {"allOf": [{"$ref": "#/components/schemas/Color"}]},
            "value": {"anyOf": [{"type": "string"}, {"type": "number"}]},
            "flipped": {"anyOf": [{"type": "number"}, {"type": "string"}]},
            "count": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "ratio": {"type": "number"},
            "flag": {"type": "boolean"},
            "nums": {"type": "array", "items": {"type": "integer"}},
            "extra": {"type": "object"},
            "text": {"type": "string"}
          }}
        }}}
        """

    static func parse(_ items: [String]) throws -> [String: Any] {
        try PredictionInputs.parse(items, schema: schema)
    }

    static func json(_ value: Any?) -> String {
        guard let value else { return "nil" }
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }

    @Test func choicesAndUnionsAreTypedByTheirMembers() throws {
        let inputs = try Self.parse([
            "n=3", "color=red", "value=1.5", "flipped=world", "count=1.5", "ratio=10", "flag=true", "text=12",
        ])
        #expect(inputs["n"] as? Int == 3)
        #expect(inputs["color"] as? String == "red")
        #expect(inputs["value"] as? Double == 1.5)
        #expect(inputs["flipped"] as? String == "world")
        #expect(inputs["count"] as? String == "1.5", "a str | int union takes no fraction: the string")
        #expect(inputs["ratio"] as? Int == 10, "a whole number stays an integer, as Cog sends it")
        #expect(inputs["flag"] as? Bool == true)
        #expect(inputs["text"] as? String == "12")
        let ints = try Self.parse(["value=1", "flipped=2", "count=7"])
        #expect(ints["value"] as? Int == 1)
        #expect(ints["flipped"] as? Int == 2)
        #expect(ints["count"] as? Int == 7)
        let words = try Self.parse(["value=hello"])
        #expect(words["value"] as? String == "hello")
    }

    @Test func listsObjectsAndQuotes() throws {
        let inputs = try Self.parse(["nums=1", "nums=2", "extra={\"a\": 1}", "text=\"quoted\""])
        #expect(Self.json(inputs["nums"]) == "[1,2]")
        #expect(Self.json(inputs["extra"]) == #"{"a":1}"#)
        #expect(inputs["text"] as? String == "quoted")
        #expect(Self.json(try Self.parse(["nums=[4, 5]"])["nums"]) == "[4,5]")
        #expect(Self.json(try Self.parse(["nums=6"])["nums"]) == "[6]")
        // A value the schema refuses stays text, for the runtime to refuse in its words.
        #expect(try Self.parse(["n=many"])["n"] as? String == "many")
        #expect(try Self.parse(["unknown=5"])["unknown"] as? String == "5")
    }
}
