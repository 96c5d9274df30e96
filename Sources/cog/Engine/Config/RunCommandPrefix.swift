/// Leading BuildKit `--mount=` flags in a `build.run` string.
///
/// Cog writes each command after `RUN`, so `--mount=type=cache,target=/root/.cache/pip pip install x` in
/// cog.yaml becomes a BuildKit cache mount (real configs do this). The plan keeps that meaning: the flags
/// become `RunMount`s and the rest is the shell command.
enum RunCommandPrefix {
    /// The mounts named by leading `--mount=` flags and the command after them.
    static func split(_ command: String) -> Result<(mounts: [RunMount], body: String), RuleViolation> {
        var rest = Substring(command)
        var mounts: [RunMount] = []
        while rest.hasPrefix("--mount=") {
            let flag = rest.prefix { !$0.isWhitespace }
            rest = rest.dropFirst(flag.count).drop { $0.isWhitespace }
            switch parseMount(flag.dropFirst("--mount=".count)) {
            case .success(let mount): mounts.append(mount)
            case .failure(let violation): return .failure(violation)
            }
        }
        if rest.hasPrefix("--") {
            let flag = rest.prefix { !$0.isWhitespace }
            return .failure(
                RuleViolation(
                    message: "run command starts with the RUN flag \(flag), which cog does not support",
                    hint: "only --mount=type=cache and --mount=type=secret flags may precede a command"))
        }
        guard !rest.isEmpty else {
            return .failure(
                RuleViolation(
                    message: "run command \"\(command)\" has mounts but no command",
                    hint: "write the command after the --mount flags"))
        }
        return .success((mounts, String(rest)))
    }

    private static func parseMount(_ spec: Substring) -> Result<RunMount, RuleViolation> {
        var options: [String: String] = [:]
        for part in spec.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            options[String(pair[0])] = pair.count > 1 ? String(pair[1]) : "true"
        }
        let target = options["target"] ?? options["dst"] ?? options["destination"]
        let allowed: Set<String> = [
            "type", "target", "dst", "destination", "id", "sharing", "mode", "uid", "gid", "required",
        ]
        if let unknown = options.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(
                RuleViolation(
                    message: "--mount option \"\(unknown)\" is not supported",
                    hint: "use type, target and id (plus sharing, mode, uid, gid)"))
        }
        switch options["type"] ?? "bind" {
        case "cache":
            guard let target, target.hasPrefix("/") else {
                return .failure(
                    RuleViolation(
                        message: "--mount=type=cache needs an absolute target",
                        hint: "e.g. --mount=type=cache,target=/root/.cache/pip"))
            }
            return .success(.cache(target: target, id: options["id"] ?? target))
        case "secret":
            guard let id = options["id"] ?? target.map({ String($0.split(separator: "/").last ?? "") }), !id.isEmpty
            else {
                return .failure(
                    RuleViolation(
                        message: "--mount=type=secret needs an id",
                        hint: "e.g. --mount=type=secret,id=hf_token,target=/run/secrets/hf_token"))
            }
            let required = ["true", "1"].contains(options["required"]?.lowercased() ?? "false")
            return .success(.secret(id: id, target: target ?? "/run/secrets/\(id)", required: required))
        case let type:
            return .failure(
                RuleViolation(
                    message: "--mount=type=\(type) is not supported in run commands",
                    hint: "only type=cache and type=secret mounts are supported"))
        }
    }
}
