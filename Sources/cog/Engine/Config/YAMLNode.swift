/// A position in a text file, 1-based, as a person counts lines and columns.
struct SourceMark: Sendable, Equatable, Hashable, Comparable {
    var line: Int
    var column: Int

    static func < (lhs: SourceMark, rhs: SourceMark) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// One node of a YAML document, with the position where it starts.
///
/// Scalars keep the text exactly as written (`3.10` stays `"3.10"`, never the float 3.1), so each
/// reader of cog.yaml decides what a value means.
struct YAMLNode: Sendable, Equatable {
    /// What the node holds.
    enum Content: Sendable, Equatable {
        /// Scalar text; `plain` is false for quoted and block scalars.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    var content: Content
    var mark: SourceMark
    /// An explicit tag such as `tag:yaml.org,2002:str`, when the document wrote one.
    var tag: String? = nil

    /// The scalar text, or nil for a sequence or a mapping.
    var scalar: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// Whether the node is YAML null: an empty plain value, `~` or `null`.
    var isNull: Bool {
        if tag == "tag:yaml.org,2002:null" { return true }
        guard case .scalar(let text, let plain) = content, plain, tag == nil else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The items of a sequence, or nil.
    var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The pairs of a mapping, or nil.
    var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// How a person would name the kind of value, for error messages ("a list", "a string").
    var kindDescription: String {
        if isNull { return "nothing (null)" }
        switch content {
        case .scalar(let text, let plain):
            if plain, ["true", "false", "True", "False", "TRUE", "FALSE"].contains(text) {
                return "the boolean \(text)"
            }
            if plain, Double(text) != nil { return "the number \(text)" }
            return "the string \"\(text)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

/// A key and its value in a YAML mapping.
struct YAMLPair: Sendable, Equatable {
    var key: YAMLNode
    var value: YAMLNode
}
