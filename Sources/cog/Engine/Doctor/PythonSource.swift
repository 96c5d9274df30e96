import Foundation

/// Just enough of a Python file's structure for `cog doctor`: top-level statements (a parenthesized or
/// backslash-continued one spans lines), classes and their methods, found by indentation. Cog's doctor uses a
/// tree-sitter parse; these checks only look at the shapes a predictor file has at its top level.
struct PythonSource {
    var lines: [String]

    init(_ text: String) { lines = text.components(separatedBy: "\n") }

    var text: String { lines.joined(separator: "\n") }

    /// A statement: its first and last line (0-based) and its text, lines joined.
    struct Statement {
        let first: Int
        let last: Int
        let text: String
    }

    /// The statements at indentation 0 (comments and blank lines left out).
    var topLevel: [Statement] { statements(indent: 0, in: 0..<lines.count) }

    /// The statements indented exactly `indent` within `range` (deeper lines belong to them).
    func statements(indent: Int, in range: Range<Int>) -> [Statement] {
        var found: [Statement] = []
        var index = range.lowerBound
        while index < range.upperBound {
            let line = lines[index]
            let stripped = line.drop { $0 == " " || $0 == "\t" }
            guard !stripped.isEmpty, !stripped.hasPrefix("#"), line.count - stripped.count == indent else {
                index += 1
                continue
            }
            var last = index
            var joined = line
            var depth = Self.depth(line)
            while last + 1 < range.upperBound && (depth > 0 || lines[last].hasSuffix("\\")) {
                last += 1
                joined += "\n" + lines[last]
                depth += Self.depth(lines[last])
            }
            found.append(Statement(first: index, last: last, text: joined))
            index = last + 1
        }
        return found
    }

    /// The lines of a block opened at `line` (those indented deeper, up to the next line that is not).
    func block(after line: Int) -> Range<Int> {
        let indent = Self.indent(lines[line])
        var end = line + 1
        while end < lines.count {
            let stripped = lines[end].drop { $0 == " " || $0 == "\t" }
            if !stripped.isEmpty && !stripped.hasPrefix("#") && Self.indent(lines[end]) <= indent { break }
            end += 1
        }
        return (line + 1)..<end
    }

    /// The top-level class named `name` (decorated or not): its `class` statement.
    func classes(named name: String? = nil) -> [Statement] {
        topLevel.filter { statement in
            guard let declared = Self.declaredName(statement.text, keyword: "class") else { return false }
            return name == nil || declared == name
        }
    }

    /// The methods named `name` directly in the class opened at `line`.
    func methods(named name: String, inClassAt line: Int) -> [Statement] {
        let body = block(after: line)
        guard let first = body.first(where: { !lines[$0].trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return []
        }
        return statements(indent: Self.indent(lines[first]), in: body).filter {
            Self.declaredName($0.text, keyword: "def") == name
        }
    }

    /// The name a `class` or `def` (also `async def`) statement declares.
    static func declaredName(_ statement: String, keyword: String) -> String? {
        var text = statement.trimmingCharacters(in: .whitespaces)
        if keyword == "def", text.hasPrefix("async ") { text = String(text.dropFirst(6)) }
        guard text.hasPrefix(keyword + " ") else { return nil }
        let name = text.dropFirst(keyword.count + 1).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return name.isEmpty ? nil : String(name)
    }

    /// Whether `text` uses the identifier `name` (not as part of a longer one, nor after a dot).
    static func uses(_ text: String, _ name: String) -> Bool {
        text.range(
            of: #"(?<![\w.])"# + NSRegularExpression.escapedPattern(for: name) + #"(?!\w)"#, options: .regularExpression
        )
            != nil
    }

    static func indent(_ line: String) -> Int { line.prefix { $0 == " " || $0 == "\t" }.count }

    /// Open minus closed brackets on a line, outside strings and comments (roughly: quotes toggle).
    private static func depth(_ line: String) -> Int {
        var depth = 0
        var quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "\"", "'": quote = character
            case "#": return depth
            case "(", "[", "{": depth += 1
            case ")", "]", "}": depth -= 1
            default: break
            }
        }
        return depth
    }
}
