import Foundation

/// Indents compact JSON as Cog prints it (Go's `json.MarshalIndent(v, "", "  ")`): `"key": value`, two spaces
/// a level, empty objects and arrays as `{}` and `[]`. Foundation's pretty printer writes `"key" : value` and
/// empty containers over two lines, which scripts matching Cog's output (`"status": "succeeded"`) do not find.
enum JSONIndent {
    /// `compact` must hold no whitespace between tokens (JSONSerialization without `.prettyPrinted`); strings
    /// are copied as they are.
    static func indent(_ compact: Data) -> Data {
        var out = Data()
        out.reserveCapacity(compact.count + compact.count / 4)
        var depth = 0
        var needIndent = false  // an object or array was opened and nothing is in it yet
        var inString = false
        var escaped = false
        func newline() {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(0x20, count: 2 * depth))
        }
        for byte in compact {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if needIndent {
                    needIndent = false
                } else {
                    newline()
                }
                out.append(byte)
                continue
            default:
                break
            }
            if needIndent {
                needIndent = false
                newline()
            }
            out.append(byte)
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                needIndent = true
            case UInt8(ascii: ","): newline()
            case UInt8(ascii: ":"): out.append(0x20)
            default: break
            }
        }
        return out
    }
}
