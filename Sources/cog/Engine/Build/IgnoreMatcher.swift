import Foundation

/// `.dockerignore` matching as BuildKit does it (moby/patternmatcher, with tonistiigi/fsutil walking the
/// context): patterns relative to the project root, cleaned like Go's `filepath.Clean`; `*` and `?` within one
/// path component, `**` across components, `[…]` classes, `\` escapes; `!` re-includes; the last matching
/// pattern wins; a pattern matching a parent directory applies to everything below it. An excluded directory is
/// still entered when an exception could re-include something inside it (`descends(into:)`).
struct IgnoreMatcher {
    private let patterns: [Pattern]
    /// fsutil's `onlyPrefixExcludeExceptions`: no exception has a wildcard (besides a trailing `/*` or `/**`), so
    /// an excluded directory is entered only when an exception names a path under it.
    private let exceptionsArePrefixes: Bool

    init(patterns raw: [String]) {
        patterns = raw.compactMap(Pattern.init)
        exceptionsArePrefixes = !patterns.contains { pattern in
            pattern.exception && pattern.withoutTrailingGlob.contains { "*[]?^\\".contains($0) }
        }
    }

    /// Whether `path` (relative, `/`-separated) is excluded (patternmatcher's `MatchesOrParentMatches`).
    func excludes(_ path: String) -> Bool {
        // Go's `filepath.Dir`, then every leading run of its components.
        let parentPath = path.lastIndex(of: "/").map { Self.clean(String(path[...$0])) } ?? "."
        var parents: [String] = []
        if parentPath != "." {
            let parts = parentPath.split(separator: "/", omittingEmptySubsequences: false)
            parents = parts.indices.map { parts[...$0].joined(separator: "/") }
        }
        var matched = false
        for pattern in patterns where pattern.exception == matched {
            if pattern.matches(path) || parents.contains(where: pattern.matches) { matched = !pattern.exception }
        }
        return matched
    }

    /// Whether to walk into the excluded directory `path`, because an exception may re-include something below
    /// it (fsutil's rule: with wildcards in an exception, always; otherwise when an exception names a path
    /// under it).
    func descends(into path: String) -> Bool {
        guard patterns.contains(where: \.exception) else { return false }
        guard exceptionsArePrefixes else { return true }
        return patterns.contains { $0.exception && ($0.withoutTrailingGlob + "/").hasPrefix(path + "/") }
    }

    /// `a`, `a/b`, `a/b/c` for `a/b/c`.
    static func prefixes(of path: String) -> [String] {
        var result: [String] = []
        var current = ""
        for part in path.split(separator: "/") {
            current = current.isEmpty ? String(part) : "\(current)/\(part)"
            result.append(current)
        }
        return result
    }

    /// Go's `filepath.Clean` on a `/`-separated path.
    static func clean(_ path: String) -> String {
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

/// One cleaned pattern, compiled as patternmatcher compiles it: an exact name, a prefix (`dir/**`), a suffix
/// (`**/name`), or a regular expression.
private struct Pattern {
    enum Kind {
        case exact
        case prefix(String)
        case suffix(String)
        case regex(NSRegularExpression)
    }

    let text: String
    let exception: Bool
    let kind: Kind

    init?(_ raw: String) {
        var pattern = raw.trimmingCharacters(in: .whitespaces)
        guard !pattern.isEmpty else { return nil }
        exception = pattern.hasPrefix("!")
        if exception { pattern = pattern.dropFirst().trimmingCharacters(in: .whitespaces) }
        pattern = IgnoreMatcher.clean(pattern)
        if pattern.count > 1, pattern.hasPrefix("/") { pattern.removeFirst() }
        guard !pattern.isEmpty, pattern != "." else { return nil }
        text = pattern
        guard let kind = Self.compile(pattern) else { return nil }
        self.kind = kind
    }

    /// The pattern without a trailing `/**` or `/*` (fsutil's `patternWithoutTrailingGlob`).
    var withoutTrailingGlob: String {
        var result = text
        for suffix in ["/**", "/*"] where result.hasSuffix(suffix) { result.removeLast(suffix.count) }
        return result
    }

    func matches(_ path: String) -> Bool {
        switch kind {
        case .exact: return path == text
        case .prefix(let prefix): return path.hasPrefix(prefix)
        case .suffix(let suffix):
            return path.hasSuffix(suffix) || (suffix.hasPrefix("/") && path == suffix.dropFirst())
        case .regex(let regex):
            return regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
        }
    }

    /// patternmatcher's `compile`, character for character.
    private static func compile(_ pattern: String) -> Kind? {
        enum Detected { case exact, prefix, suffix, regex }
        var regex = "^"
        var detected = Detected.exact
        var characters = Array(pattern)[...]
        var index = 0
        while let c = characters.popFirst() {
            defer { index += 1 }
            switch c {
            case "*" where characters.first == "*":
                characters.removeFirst()
                if characters.first == "/" { characters.removeFirst() }
                if characters.isEmpty {
                    if detected == .exact {
                        detected = .prefix
                    } else {
                        regex += ".*"
                        detected = .regex
                    }
                } else {
                    regex += "(.*/)?"
                    detected = .regex
                }
                if index == 0 { detected = .suffix }
            case "*":
                regex += "[^/]*"
                detected = .regex
            case "?":
                regex += "[^/]"
                detected = .regex
            case ".", "+", "(", ")", "|", "{", "}", "$":
                regex += "\\\(c)"
            case "\\":
                if let next = characters.popFirst() {
                    regex += "\\\(next)"
                    detected = .regex
                } else {
                    regex += "\\\\"
                }
            case "[", "]":
                regex += String(c)
                detected = .regex
            default:
                regex.append(c)
            }
        }
        switch detected {
        case .exact: return .exact
        case .prefix: return .prefix(String(pattern.dropLast(2)))
        case .suffix: return .suffix(String(pattern.dropFirst(2)))
        case .regex:
            guard let compiled = try? NSRegularExpression(pattern: regex + "$") else { return nil }
            return .regex(compiled)
        }
    }
}
