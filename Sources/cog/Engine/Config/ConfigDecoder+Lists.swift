import Foundation

/// The list-valued keys: `build.run`, the top-level `environment` list, and `weights`.
extension ConfigDecoder {
    mutating func decodeRunItems(_ node: YAMLNode, key: String) {
        if node.isNull { return }
        guard let items = node.sequence else {
            log.error(
                "\(key) must be a list of commands, not \(node.kindDescription)", at: node.mark,
                hint: "write each command on its own line starting with \"- \"")
            return
        }
        for item in items where !item.isNull {
            if let text = item.scalar {
                if let command = checkedCommand(text, mark: item.mark) {
                    decoded.config.build.run.append(RunItem(command: command))
                }
            } else if item.mapping != nil {
                decodeRunMapping(item, key: key)
            } else {
                log.error(
                    "each item of \(key) must be a command or a {command, mounts} mapping, not \(item.kindDescription)",
                    at: item.mark)
            }
        }
    }

    private mutating func decodeRunMapping(_ item: YAMLNode, key: String) {
        var command: String?
        var mounts: [SecretMount] = []
        for (field, _, value) in fields(of: item, section: "a \(key) item", keys: KeySet(known: ["command", "mounts"]))
        {
            if field == "command" {
                if value.isNull {
                    log.error(
                        "this \(key) item's command is empty", at: value.mark,
                        hint: "write the shell command after command:")
                }
                command = string(value, key: "command").flatMap { checkedCommand($0, mark: value.mark) }
            } else if !value.isNull {
                guard let list = value.sequence else {
                    log.error("mounts must be a list, not \(value.kindDescription)", at: value.mark)
                    continue
                }
                mounts += list.compactMap { decodeMount($0) }
            }
        }
        guard let command else {
            let hasCommandKey = item.mapping?.contains { $0.key.scalar == "command" } ?? false
            if !hasCommandKey {
                log.error("this \(key) item has no command", at: item.mark, hint: "add command: <shell command>")
            }
            return
        }
        decoded.config.build.run.append(RunItem(command: command, mounts: mounts))
    }

    private mutating func decodeMount(_ node: YAMLNode) -> SecretMount? {
        var values: [String: String] = [:]
        var required = false
        let keys = KeySet(known: ["type", "id", "target", "required"])
        for (field, _, value) in fields(of: node, section: "a mount", keys: keys) {
            if field == "required" {
                // BuildKit's `required=true`: Cog's schema has no such key (a secret is then optional), so it is
                // an extension that turns a missing secret into an error instead of a step run without it.
                required = bool(value, key: field) ?? false
                continue
            }
            guard let text = string(value, key: field) else { continue }
            if field == "type", text != "secret" {
                log.error(
                    "mount type \"\(text)\" is not supported; cog.yaml mounts are secrets only", at: value.mark,
                    hint: "for a cache, start the command with --mount=type=cache,target=/root/.cache/pip")
                return nil
            }
            values[field] = text
        }
        let missing = ["type", "id", "target"].filter { values[$0]?.isEmpty ?? true }
        guard missing.isEmpty, let id = values["id"], let target = values["target"] else {
            if node.mapping != nil {
                log.error(
                    "this mount lacks \(missing.joined(separator: ", "))", at: node.mark,
                    hint: "a mount needs type: secret, id: <secret id> and target: <path>")
            }
            return nil
        }
        return SecretMount(id: id, target: target, required: required)
    }

    /// A run command, trimmed, when it is one line and any leading `--mount=` flags parse; else nil.
    mutating func checkedCommand(_ text: String, mark: SourceMark) -> String? {
        let command = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if command.isEmpty {
            log.error("a run command is empty", at: mark, hint: "remove the empty item")
            return nil
        }
        if command.contains("\n") {
            log.error(
                "this run command spans several lines; each command must be one line", at: mark,
                hint:
                    "make each command its own list item starting with \"- \", or fold it with >- so its lines join with spaces"
            )
            return nil
        }
        if case .failure(let violation) = RunCommandPrefix.split(command) {
            log.error(violation.message, at: mark, hint: violation.hint)
            return nil
        }
        return command
    }

    mutating func decodeEnvironmentList(_ node: YAMLNode) {
        var lines: [String: Int] = [:]
        for item in stringList(node, key: "environment") {
            switch ConfigRules.checkEnvironmentEntry(item.text) {
            case .failure(let violation):
                log.error(violation.message, at: item.mark, hint: violation.hint)
            case .success(let variable):
                if let line = lines[variable.name] {
                    log.error(
                        "environment variable \"\(variable.name)\" is already set on line \(line)", at: item.mark,
                        hint: "remove one of them")
                    continue
                }
                lines[variable.name] = item.mark.line
                decoded.config.environment.append(item.text)
            }
        }
    }

    mutating func decodeWeights(_ node: YAMLNode) {
        if node.isNull { return }
        guard let items = node.sequence else {
            log.error("weights must be a list, not \(node.kindDescription)", at: node.mark)
            return
        }
        decoded.marks["weights"] = node.mark
        var names: Set<String> = []
        var targets: Set<String> = []
        for item in items {
            var weight = WeightSource(name: "", target: "", sources: [])
            for (field, _, value) in fields(
                of: item, section: "a weights item", keys: KeySet(known: ["name", "target", "source"]))
            {
                switch field {
                case "name":
                    weight.name = string(value, key: "name") ?? ""
                    if weight.name.range(of: #"^[a-z0-9]+([._-][a-z0-9]+)*$"#, options: .regularExpression) == nil {
                        log.error(
                            "weights name \"\(weight.name)\" is not valid", at: value.mark,
                            hint: "use lowercase letters and digits, separated by . _ or -")
                    } else if !names.insert(weight.name).inserted {
                        log.error("weights name \"\(weight.name)\" is used twice", at: value.mark)
                    }
                case "target":
                    weight.target = string(value, key: "target") ?? ""
                    if !weight.target.hasPrefix("/") || weight.target == "/" {
                        log.error(
                            "weights target \"\(weight.target)\" must be an absolute path other than /", at: value.mark,
                            hint: "e.g. target: /src/weights/model")
                    } else if !targets.insert(weight.target).inserted {
                        log.error("weights target \"\(weight.target)\" is used twice", at: value.mark)
                    }
                default:
                    weight.sources = decodeWeightSources(value)
                }
            }
            if weight.name.isEmpty || weight.target.isEmpty || weight.sources.isEmpty, item.mapping != nil {
                log.error("a weights item needs name, target and source", at: item.mark)
            }
            if let other = decoded.config.weights.first(where: { Self.nested(weight.target, $0.target) }) {
                log.error(
                    "weights target \"\(weight.target)\" overlaps with \"\(other.target)\"; weight targets must be disjoint",
                    at: item.mark)
            }
            decoded.config.weights.append(weight)
        }
    }

    /// Whether one target holds the other (the weights are mounted there, so they must be disjoint).
    private static func nested(_ first: String, _ second: String) -> Bool {
        guard !first.isEmpty, !second.isEmpty, first != second else { return false }
        let (a, b) = (first.hasSuffix("/") ? first : first + "/", second.hasSuffix("/") ? second : second + "/")
        return a.hasPrefix(b) || b.hasPrefix(a)
    }

    private mutating func decodeWeightSources(_ node: YAMLNode) -> [WeightSource.Location] {
        let nodes = node.sequence ?? [node]
        var result: [WeightSource.Location] = []
        for source in nodes {
            var location = WeightSource.Location(uri: "")
            for (field, _, value) in fields(
                of: source, section: "a weights source", keys: KeySet(known: ["uri", "include", "exclude"]))
            {
                if field == "uri" { location.uri = string(value, key: "uri") ?? "" }
                let items = field == "uri" ? [] : stringList(value, key: field)
                for item in items {
                    if let problem = WeightPattern.problem(with: item.text) {
                        log.error("weights \(field) pattern \"\(item.text)\": \(problem)", at: item.mark)
                    }
                }
                let patterns = items.map(\.text)
                if field == "include" { location.include = patterns }
                if field == "exclude" { location.exclude = patterns }
            }
            if location.uri.isEmpty {
                log.error(
                    "a weights source needs a uri", at: source.mark,
                    hint: "e.g. uri: hf://owner/repo or a directory in the project")
            } else {
                result.append(location)
            }
        }
        return result
    }
}
