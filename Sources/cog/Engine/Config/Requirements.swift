import Foundation

/// One requirement as pip reads it: a `python_packages` item or a logical line of a requirements file.
struct RequirementLine: Sendable, Equatable {
    var text: String
    /// Where it starts, in cog.yaml or in the requirements file.
    var mark: SourceMark?
}

/// A requirement pinned to one version, `name==version`, with the index options written on its line.
struct PinnedRequirement: Sendable, Equatable {
    var name: String
    var version: String
    var findLinks: [String] = []
    var extraIndexURLs: [String] = []
}

/// Reading pip requirements the way pip (and Cog's `pkg/requirements`) does.
enum Requirements {
    /// The logical lines of a requirements file: `\` continuations joined, comments (a `#` at the start or
    /// after whitespace, as pip has it) and blank lines removed, and `-e .` dropped as Cog does.
    static func read(_ text: String) -> [RequirementLine] {
        var result: [RequirementLine] = []
        var pending = ""
        var start = 0
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            if pending.isEmpty { start = index + 1 }
            if line.hasSuffix("\\") {
                line.removeLast()
                pending += line
                continue
            }
            let logical = stripComment(pending + line).trimmingCharacters(in: .whitespaces)
            pending = ""
            if logical.isEmpty || logical.range(of: #"^-e\s+\.$"#, options: .regularExpression) != nil { continue }
            result.append(RequirementLine(text: logical, mark: SourceMark(line: start, column: 1)))
        }
        let last = stripComment(pending).trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { result.append(RequirementLine(text: last, mark: SourceMark(line: start, column: 1))) }
        return result
    }

    private static func stripComment(_ line: String) -> String {
        if line.hasPrefix("#") { return "" }
        guard let range = line.range(of: #"\s#"#, options: .regularExpression) else { return line }
        return String(line[..<range.lowerBound])
    }

    /// Whether the line is a pip option (`--extra-index-url …`, `-f …`) rather than a requirement.
    static func isOption(_ line: String) -> Bool { line.hasPrefix("-") }

    /// The distribution name a requirement starts with (`torch`, `Pillow`; extras excluded), or nil for options,
    /// URLs and paths.
    static func packageName(_ line: String) -> String? {
        // Only the first word names the package; later words may be options holding URLs.
        let first = line.prefix { !$0.isWhitespace && $0 != ";" }
        guard !isOption(line), !first.contains("://"),
            let range = first.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*"#, options: .regularExpression)
        else { return nil }
        let name = String(first[range])
        if first[range.upperBound...].hasPrefix("/") { return nil }  // a path such as dist/pkg.whl
        return name.hasSuffix(".whl") || name.hasSuffix(".zip") || name.hasSuffix(".gz") ? nil : name
    }

    /// PEP 503 normalisation for comparing names: lowercase, runs of `-_.` as one `-`.
    static func normalized(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: #"[-_.]+"#, with: "-", options: .regularExpression)
    }

    /// The first version any specifier names (`torch>=2.3.1` → `2.3.1`), as Cog reads a framework version; nil
    /// when the requirement names none.
    static func firstVersion(_ line: String) -> String? {
        let requirement = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? line
        guard let range = requirement.range(of: #"(===|==|!=|~=|<=|>=|<|>)\s*[^\s,;|]+"#, options: .regularExpression)
        else { return nil }
        return requirement[range].drop { "=!~<> ".contains($0) }.description
    }

    /// `name==version` with only index options after it (`--extra-index-url=URL`, `-f URL` …), else nil.
    static func pinned(_ line: String) -> PinnedRequirement? {
        var tokens = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else { return nil }
        let head = tokens.removeFirst()
        guard let match = head.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s;,\[\]]+$"#, options: .regularExpression),
            match == head.startIndex..<head.endIndex
        else { return nil }
        let parts = head.components(separatedBy: "==")
        var result = PinnedRequirement(name: parts[0], version: parts[1])
        while !tokens.isEmpty {
            let token = tokens.removeFirst()
            let (option, inlineValue) =
                token.contains("=")
                ? (String(token.prefix { $0 != "=" }), String(token.drop { $0 != "=" }.dropFirst())) : (token, nil)
            guard ["--extra-index-url", "--find-links", "-f"].contains(option) else { return nil }
            guard let value = inlineValue ?? (tokens.isEmpty ? nil : tokens.removeFirst()), !value.isEmpty else {
                return nil
            }
            if option == "--extra-index-url" {
                result.extraIndexURLs.append(value)
            } else {
                result.findLinks.append(value)
            }
        }
        return result
    }
}
