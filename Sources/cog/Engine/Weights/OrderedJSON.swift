import Foundation

/// A JSON value whose object keys keep the order they were given in, written as Go's `encoding/json` writes it:
/// the weights artifacts (config blob, manifest) and `weights.lock` are byte for byte what Cog writes for the same
/// content, so their digests agree with Cog's. Reading goes through `Codable`, where order does not matter.
indirect enum OrderedJSON: Equatable, Sendable {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case integer(Int64)

    static func == (lhs: OrderedJSON, rhs: OrderedJSON) -> Bool { lhs.compact == rhs.compact }

    /// `json.Marshal`: no whitespace.
    var compact: Data { Data(render(indent: nil, depth: 0).utf8) }

    /// `json.MarshalIndent(v, "", "  ")`: `"key": value`, two spaces a level, `[]` and `{}` when empty; no newline
    /// at the end.
    var indented: Data { Data(render(indent: "  ", depth: 0).utf8) }

    private func render(indent: String?, depth: Int) -> String {
        func line(_ level: Int) -> String { indent.map { "\n" + String(repeating: $0, count: level) } ?? "" }
        switch self {
        case .string(let text): return Self.quoted(text)
        case .integer(let value): return String(value)
        case .array(let items):
            if items.isEmpty { return "[]" }
            let inner = items.map { line(depth + 1) + $0.render(indent: indent, depth: depth + 1) }
            return "[" + inner.joined(separator: ",") + line(depth) + "]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            let separator = indent == nil ? ":" : ": "
            let inner = pairs.map { key, value in
                line(depth + 1) + Self.quoted(key) + separator + value.render(indent: indent, depth: depth + 1)
            }
            return "{" + inner.joined(separator: ",") + line(depth) + "}"
        }
    }

    /// Go's string escaping: `"` and `\`, control characters (`\b` and `\f` by name, as since Go 1.22), and `<`,
    /// `>`, `&`, U+2028, U+2029 as `\uXXXX`.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"  // Go 1.22 and later (Cog builds with 1.26)
            case "\u{c}": out += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += String(format: "\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
