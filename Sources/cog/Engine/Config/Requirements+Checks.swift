import Foundation

/// Checks on single requirements that can be made before anything runs.
extension Requirements {
    /// The `git+…` URL a requirement installs from (`git+https://…@ref`, or `name @ git+…`), if any.
    static func gitURL(_ line: String) -> String? {
        let body = line.hasPrefix("-e ") ? String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces) : line
        if body.hasPrefix("git+") { return body.split(whereSeparator: \.isWhitespace).first.map(String.init) }
        guard let at = body.range(of: "@") else { return nil }
        let after = body[at.upperBound...].drop { $0 == " " }
        return after.hasPrefix("git+") ? after.split(whereSeparator: \.isWhitespace).first.map(String.init) : nil
    }

    /// The ref pinned after `@` in a git URL's path (`…/transformers@2d1602a` → `2d1602a`), if any.
    static func gitRef(_ url: String) -> String? {
        var rest = Substring(url)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { return nil }  // an @ before the path is user info
            rest = rest[slash...]
        } else if let colon = rest.firstIndex(of: ":") {
            rest = rest[colon...]  // scp form git+git@host:owner/repo@ref
        }
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let ref = rest[rest.index(after: at)...]
        return ref.isEmpty ? nil : String(ref)
    }

    /// What is wrong with a `git+` requirement that cannot work (a commit too short to be unique), or nil.
    static func checkGitRequirement(_ line: String) -> RuleViolation? {
        guard let url = gitURL(line), let ref = gitRef(url) else { return nil }
        let isHex = ref.allSatisfy { $0.isHexDigit }
        if isHex, ref.count < 6 {
            return RuleViolation(
                message:
                    "the pinned commit \"\(ref)\" in \"\(url)\" is too short: a commit needs at least six hex characters",
                hint: "use at least six characters of the commit SHA, e.g. @2d1602a")
        }
        return nil
    }

    /// Whether the requirement names a file on the build machine (`pkg @ file://…`, `./dist/x.whl`, `x.tar.gz`).
    static func isLocalFile(_ line: String) -> Bool {
        let body = line.hasPrefix("-e ") ? String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces) : line
        if isOption(body) || gitURL(body) != nil { return false }
        if body.contains("file:") { return true }
        if let at = body.firstIndex(of: "@"), !body[..<at].contains("/") {
            // PEP 508 `name @ location`: local unless the location is a URL.
            let location = body[body.index(after: at)...].trimmingCharacters(in: .whitespaces)
            return !location.contains("://") && !location.isEmpty
        }
        if body.contains("://") { return false }
        if body.hasPrefix(".") || body.hasPrefix("/") || body.hasPrefix("~") { return true }
        let first = body.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? body
        let archive = [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"].contains { first.hasSuffix($0) }
        return archive || (first.contains("/") && !first.contains("@"))
    }

    /// The nested file options pip would read from the build machine (`-r`, `-c` and their long forms), if the line is one.
    static func nestedFileOption(_ line: String) -> String? {
        let option = line.split(whereSeparator: { $0.isWhitespace || $0 == "=" }).first.map(String.init) ?? ""
        return ["-r", "--requirement", "-c", "--constraint"].contains(option) ? option : nil
    }
}
