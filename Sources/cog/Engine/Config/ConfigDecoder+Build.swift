import Foundation

/// The `build` stanza (and the oldest schema's `environment` stanza).
extension ConfigDecoder {
    mutating func decodeBuild(_ node: YAMLNode, section: String) {
        let legacy = section == "environment"
        var keys = KeySet(known: Self.buildKeys + (legacy ? Self.legacyBuildKeys : []))
        keys.ignored = [
            "fast": "build.fast was an experimental Cog option and is ignored",
            "cog_runtime": "build.cog_runtime is ignored: the cog runtime package is always installed",
            "python_overrides": "build.python_overrides is ignored, as in Cog 0.17 and later: its pins are not applied",
        ]
        for key in ["predict", "image", "train", "concurrency", "model", "weights"] {
            keys.misplaced[key] = "\(key) belongs at the top level of cog.yaml, not in \(section)"
        }
        decoded.marks["build"] = node.mark
        for (key, keyMark, value) in fields(of: node, section: section, keys: keys) {
            decodeBuildKey(key, keyMark: keyMark, value: value, legacy: legacy)
        }
        let build = decoded.config.build
        if !build.pythonPackages.isEmpty, build.pythonRequirements != nil {
            log.error(
                "python_packages and python_requirements cannot both be set",
                at: decoded.marks["build.python_requirements"],
                hint: "put the packages in the requirements file, one per line, and remove python_packages")
        }
    }

    private mutating func decodeBuildKey(_ key: String, keyMark: SourceMark, value: YAMLNode, legacy: Bool) {
        let path = "build.\(key)"
        switch key {
        case "gpu":
            decoded.config.build.gpu = bool(value, key: path) ?? false
            decoded.marks[path] = value.mark
        case "python_version":
            guard let text = checked(value, path: path, ConfigRules.checkPythonVersion) else { return }
            decoded.config.build.pythonVersion = text
        case "python_requirements":
            guard let text = string(value, key: path), !text.isEmpty else { return }
            decoded.config.build.pythonRequirements = text
            decoded.marks[path] = value.mark
        case "python_packages":
            decoded.marks[path] = keyMark
            for (index, item) in stringList(value, key: path).enumerated() {
                decoded.config.build.pythonPackages.append(item.text)
                decoded.marks["\(path).\(index)"] = item.mark
            }
        case "system_packages":
            for item in stringList(value, key: path) {
                let name = item.text.trimmingCharacters(in: .whitespaces)
                if let violation = ConfigRules.checkAptPackage(name) {
                    log.error(violation.message, at: item.mark, hint: violation.hint)
                }
                decoded.config.build.systemPackages.append(name)
            }
        case "run", "post_install":
            decodeRunItems(value, key: path)
        case "pre_install":
            log.warning(
                "build.pre_install is deprecated; its commands run after build.run", at: keyMark,
                hint: "move them into build.run")
            for item in stringList(value, key: path) {
                if let command = checkedCommand(item.text, mark: item.mark) {
                    decoded.config.build.preInstall.append(command)
                }
            }
        case "cuda":
            decoded.config.build.cuda = checked(value, path: path, ConfigRules.checkCUDAVersion)
        case "cudnn":
            decoded.config.build.cudnn = checked(value, path: path, ConfigRules.checkCuDNN)
        case "sdk_version":
            decoded.config.build.sdkVersion = checked(value, path: path, ConfigRules.checkSDKVersion)
        case "python_extra_index_urls", "python_find_links":
            let option = key == "python_find_links" ? "--find-links" : "--extra-index-url"
            if !legacy {
                log.warning(
                    "\(path) is no longer a Cog key; it was applied as \(option) lines", at: keyMark,
                    hint: "use python_requirements with \(option) lines in the requirements file")
            }
            for item in stringList(value, key: path) {
                if !(item.text.hasPrefix("https://") || item.text.hasPrefix("http://") || item.text.hasPrefix("file:"))
                {
                    log.warning(
                        "\"\(item.text)\" is not a package index URL; pip will not find packages there", at: item.mark,
                        hint: key == "python_find_links"
                            ? nil : "a git+https:// URL is a package: list it in python_packages")
                }
                decoded.config.build.requirementOptions.append("\(option) \(item.text)")
            }
        case "architectures":
            for item in stringList(value, key: path) where !["cpu", "gpu"].contains(item.text) {
                log.error(
                    "architectures lists \"\(item.text)\"; only cpu and gpu exist", at: item.mark,
                    hint: "use gpu: true in the build section")
            }
            decoded.config.build.gpu = stringList(value, key: path).contains { $0.text == "gpu" }
            decoded.marks["build.gpu"] = value.mark
        default:
            droppedKeys.append(key)
        }
    }

    /// A string value that passes `rule`, recording its position; violations are reported.
    private mutating func checked(_ value: YAMLNode, path: String, _ rule: (String) -> RuleViolation?) -> String? {
        guard let text = string(value, key: path) else { return nil }
        decoded.marks[path] = value.mark
        if let violation = rule(text) {
            log.error(violation.message, at: value.mark, hint: violation.hint)
            return nil
        }
        return text
    }
}
