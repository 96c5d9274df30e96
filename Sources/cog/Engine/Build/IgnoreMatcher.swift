import Foundation

/// `.dockerignore` matching as BuildKit does it: patterns relative to the project root, `*` and `?` within one
/// path component, `**` across components, `!` re-includes, the last matching pattern wins, and a pattern that
/// matches a directory excludes everything below it.
struct IgnoreMatcher {
    private let rules: [(regex: NSRegularExpression, exclude: Bool)]

    init(patterns: [String]) {
        rules = patterns.compactMap { raw in
            var pattern = raw.trimmingCharacters(in: .whitespaces)
            var exclude = true
            if pattern.hasPrefix("!") {
                exclude = false
                pattern.removeFirst()
            }
            pattern = (pattern as NSString).standardizingPath
            while pattern.hasPrefix("/") { pattern.removeFirst() }
            if pattern.hasPrefix("./") { pattern.removeFirst(2) }
            guard !pattern.isEmpty, pattern != "." else { return nil }
            guard let regex = try? NSRegularExpression(pattern: "^" + Self.translate(pattern) + "$") else { return nil }
            return (regex, exclude)
        }
    }

    static func translate(_ pattern: String) -> String {
        var out = ""
        var characters = Array(pattern)[...]
        while let c = characters.popFirst() {
            switch c {
            case "*":
                if characters.first == "*" {
                    characters.removeFirst()
                    if characters.first == "/" {
                        characters.removeFirst()
                        out += "(.*/)?"
                    } else {
                        out += ".*"
                    }
                } else {
                    out += "[^/]*"
                }
            case "?": out += "[^/]"
            case "[":
                if let close = characters.firstIndex(of: "]") {
                    out += "[" + String(characters[..<close]).replacingOccurrences(of: "\\", with: "\\\\") + "]"
                    characters = characters[characters.index(after: close)...]
                } else {
                    out += "\\["
                }
            case "\\":
                if let next = characters.popFirst() { out += NSRegularExpression.escapedPattern(for: String(next)) }
            default: out += NSRegularExpression.escapedPattern(for: String(c))
            }
        }
        return out
    }

    /// Whether `path` (relative, `/`-separated) is excluded.
    func excludes(_ path: String) -> Bool {
        var excluded = false
        let parents = Self.prefixes(of: path)
        for rule in rules {
            // A rule matching the path or one of its parent directories applies to it.
            if parents.contains(where: {
                rule.regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
            }) {
                excluded = rule.exclude
            }
        }
        return excluded
    }

    static func prefixes(of path: String) -> [String] {
        var result: [String] = []
        var current = ""
        for part in path.split(separator: "/") {
            current = current.isEmpty ? String(part) : "\(current)/\(part)"
            result.append(current)
        }
        return result
    }
}
