import Foundation

/// One `include` / `exclude` pattern of a weights source, matched as Cog matches it: Cog hands the patterns to the
/// go-gitignore library, which turns each into a regular expression matched against the file's whole relative
/// path. Its quirks are kept so that a pattern selects here what it selects in Cog: `*` stays within a path
/// component, `**` crosses them, `?` is a literal question mark, and a pattern without a leading `/` matches at any
/// depth (`a/b` also matches `x/a/b`), except `dir/*.ext`, which is anchored at the top.
struct WeightPattern: Sendable {
    let text: String
    private let expression: NSRegularExpression

    init(_ text: String) throws {
        self.text = text
        expression = try NSRegularExpression(pattern: Self.translate(text))
    }

    func matches(_ path: String) -> Bool {
        expression.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }

    /// The library's translation, step by step.
    static func translate(_ pattern: String) -> String {
        var line = pattern.trimmingCharacters(in: CharacterSet(charactersIn: " "))
        if line.first != "/", line.range(of: #"([^\/+])/.*\*\."#, options: .regularExpression) != nil {
            line = "/" + line
        }
        line = line.replacingOccurrences(of: ".", with: #"\."#)
        let star = "#$~"  // the library's stand-in for a star that must survive the `*` rule
        if line.hasPrefix("/**/") { line.removeFirst() }
        line = line.replacingOccurrences(of: "/**/", with: "(/|/.+/)")
        line = line.replacingOccurrences(of: "**/", with: "(|.\(star)/)")
        line = line.replacingOccurrences(of: "/**", with: "(|/.\(star))")
        line = line.replacingOccurrences(of: #"\*"#, with: #"\"# + star)
        line = line.replacingOccurrences(of: "*", with: "([^/]*)")
        line = line.replacingOccurrences(of: "?", with: #"\?"#)
        line = line.replacingOccurrences(of: star, with: "*")
        let expression = line + (line.hasSuffix("/") ? "(|.*)$" : "(|/.*)$")
        return expression.hasPrefix("/") ? "^(|/)" + expression.dropFirst() : "^(|.*/)" + expression
    }

    /// Cog's checks on a written pattern (after trimming spaces); nil when it is usable.
    static func problem(with pattern: String) -> String? {
        let trimmed = pattern.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "pattern must not be empty" }
        if trimmed.hasPrefix("!") { return "negation patterns (starting with '!') are not supported" }
        if trimmed.contains("\\") { return "patterns must use forward slashes, not backslashes" }
        return nil
    }
}

/// A source's `include` and `exclude` patterns: a file is dropped when it matches an exclude, and, when there are
/// includes, kept only when it matches one.
struct WeightFilter: Sendable {
    let include: [WeightPattern]
    let exclude: [WeightPattern]

    init(include: [String], exclude: [String]) throws {
        self.include = try include.map { try WeightPattern($0.trimmingCharacters(in: .whitespaces)) }
        self.exclude = try exclude.map { try WeightPattern($0.trimmingCharacters(in: .whitespaces)) }
    }

    func keeps(_ path: String) -> Bool {
        if exclude.contains(where: { $0.matches(path) }) { return false }
        return include.isEmpty || include.contains { $0.matches(path) }
    }
}
