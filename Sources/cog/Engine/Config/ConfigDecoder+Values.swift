/// Typed reads of YAML values; each reports a wrong type at the value's position and returns nil.
extension ConfigDecoder {
    /// How a mapping's keys are checked.
    struct KeySet {
        /// Keys this section understands.
        var known: [String]
        /// Keys Cog once had and now ignores, with the warning to print.
        var ignored: [String: String] = [:]
        /// Keys that belong in another section, with the hint saying where.
        var misplaced: [String: String] = [:]
    }

    /// The pairs of `node` whose keys are known; reports duplicates, unknown keys (with a suggestion) and a
    /// value that is not a mapping. `section` names it in messages (`build`, `the top level`).
    mutating func fields(of node: YAMLNode, section: String, keys: KeySet) -> [(
        key: String, keyMark: SourceMark, value: YAMLNode
    )] {
        if node.isNull { return [] }
        guard let pairs = node.mapping else {
            log.error(
                "\(section) must be a mapping of keys, not \(node.kindDescription)", at: node.mark,
                hint: "put its keys on the lines below it, indented, e.g. \"\(keys.known.first ?? "key"): …\"")
            return []
        }
        var seen: [String: SourceMark] = [:]
        var result: [(key: String, keyMark: SourceMark, value: YAMLNode)] = []
        for pair in pairs {
            guard let key = pair.key.scalar else {
                log.error("keys in \(section) must be plain names, not \(pair.key.kindDescription)", at: pair.key.mark)
                continue
            }
            if let first = seen[key] {
                log.error(
                    "\"\(key)\" is set twice in \(section); the first is on line \(first.line)", at: pair.key.mark,
                    hint: "keep one of them")
                continue
            }
            seen[key] = pair.key.mark
            if keys.known.contains(key) {
                result.append((key, pair.key.mark, pair.value))
            } else if let warning = keys.ignored[key] {
                log.warning(warning, at: pair.key.mark)
            } else if let hint = keys.misplaced[key] {
                log.error("\"\(key)\" does not belong in \(section)", at: pair.key.mark, hint: hint)
            } else {
                let hint =
                    KeySuggestion.hint(for: key, in: keys.known)
                    ?? "\(section) accepts: \(keys.known.joined(separator: ", "))"
                log.error("unknown key \"\(key)\" in \(section)", at: pair.key.mark, hint: hint)
            }
        }
        return result
    }

    /// A scalar's text; nil (and an error) for a list or mapping, nil for null.
    mutating func string(_ node: YAMLNode, key: String) -> String? {
        if node.isNull { return nil }
        guard let text = node.scalar else {
            log.error("\(key) must be a string, not \(node.kindDescription)", at: node.mark)
            return nil
        }
        return text
    }

    /// `true` or `false`; anything else is an error.
    mutating func bool(_ node: YAMLNode, key: String) -> Bool? {
        if node.isNull { return nil }
        switch node.scalar {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            log.error(
                "\(key) must be true or false, not \(node.kindDescription)", at: node.mark,
                hint: "write \(key): true or \(key): false")
            return nil
        }
    }

    /// A whole number.
    mutating func int(_ node: YAMLNode, key: String) -> Int? {
        if node.isNull { return nil }
        guard let text = node.scalar, let value = Int(text) else {
            log.error("\(key) must be a whole number, not \(node.kindDescription)", at: node.mark)
            return nil
        }
        return value
    }

    /// A list of strings with each item's position; null is an empty list.
    mutating func stringList(_ node: YAMLNode, key: String) -> [(text: String, mark: SourceMark)] {
        if node.isNull { return [] }
        guard let items = node.sequence else {
            log.error(
                "\(key) must be a list, not \(node.kindDescription)", at: node.mark,
                hint: "write each item on its own line starting with \"- \"")
            return []
        }
        var result: [(text: String, mark: SourceMark)] = []
        for item in items where !item.isNull {
            guard let text = item.scalar else {
                log.error(
                    "each item of \(key) must be a string, not \(item.kindDescription)", at: item.mark,
                    hint: "quote the item if it contains \": \" or starts with { or [")
                continue
            }
            result.append((text, item.mark))
        }
        return result
    }
}
