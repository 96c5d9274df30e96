import Foundation

extension ConfigRules {
    /// `image`: a Docker image reference, `[registry[:port]/]path[:tag][@digest]`, as `docker tag` accepts.
    static func checkImageName(_ text: String) -> RuleViolation? {
        let hint =
            "use lowercase letters, digits, and . _ - / in the name, e.g. image: \"r8.im/your-username/your-model\""
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let digest = rest[rest.index(after: at)...]
            if digest.range(of: #"^[a-z0-9]+:[a-f0-9]{32,}$"#, options: .regularExpression) == nil {
                return RuleViolation(
                    message: "image \"\(text)\" has an invalid digest \"\(digest)\"",
                    hint: "a digest looks like @sha256:<64 hex digits>")
            }
            rest = rest[..<at]
        }
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let tag = rest[rest.index(after: colon)...]
            if tag.range(of: #"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$"#, options: .regularExpression) == nil {
                return RuleViolation(
                    message: "image \"\(text)\" has an invalid tag \"\(tag)\"",
                    hint: "tags use letters, digits, _ . and -, up to 128 characters")
            }
            rest = rest[..<colon]
        }
        if let problem = repositoryProblem(rest) {
            return RuleViolation(message: "image \"\(text)\" is not a valid image name: \(problem)", hint: hint)
        }
        return nil
    }

    /// `model`: a bare repository for Cog's OCI bundle push (`r8.im/user/model`), with no tag or digest.
    static func checkModelRepository(_ text: String) -> RuleViolation? {
        let lastComponent = text.split(separator: "/").last ?? Substring(text)
        if text.contains("@") || lastComponent.contains(":") {
            return RuleViolation(
                message: "model \"\(text)\" must be a bare repository: tags and digests are not allowed",
                hint: "remove the :tag or @digest part")
        }
        if let problem = repositoryProblem(Substring(text)) {
            return RuleViolation(
                message: "model \"\(text)\" is not a valid repository: \(problem)",
                hint: "use lowercase letters, digits, and . _ - /, e.g. model: \"r8.im/your-username/your-model\"")
        }
        return nil
    }

    /// What is wrong with `[host[:port]/]component/…`, or nil.
    private static func repositoryProblem(_ name: Substring) -> String? {
        if name.isEmpty { return "the name is empty" }
        var components = name.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            if first.range(of: #"^[A-Za-z0-9.\-]+(:[0-9]+)?$"#, options: .regularExpression) == nil {
                return "\"\(first)\" is not a registry host"
            }
            components.removeFirst()
        }
        for component in components {
            if component.range(of: #"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$"#, options: .regularExpression) != nil {
                continue
            }
            if component.isEmpty { return "it has an empty path component (\"//\" or a trailing \"/\")" }
            if let bad = component.first(where: {
                !($0.isLowercase || $0.isNumber || "._-".contains($0)) || !$0.isASCII
            }) {
                return bad.isUppercase ? "\"\(component)\" has uppercase letters" : "\"\(bad)\" is not allowed"
            }
            return "\"\(component)\" must start and end with a letter or digit"
        }
        return nil
    }
}
