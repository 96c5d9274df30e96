/// Parses YAML text into `YAMLNode`s that keep each node's line and column.
///
/// Anchors, aliases and `<<` merge keys are resolved; a document nested deeper than `maximumDepth` or
/// expanding to more than `maximumNodes` nodes through aliases is refused, so a hostile file cannot
/// exhaust the stack or memory.
enum YAMLParser {
    static let maximumDepth = 64
    static let maximumNodes = 100_000

    /// The root of the only document in `text`, or nil when the text holds no document (empty or comments).
    /// - Throws: `YAMLSyntaxError` for invalid YAML, a second document, or a document too deep or too large.
    static func parse(_ text: String) throws(YAMLSyntaxError) -> YAMLNode? {
        var builder = TreeBuilder(reader: try YAMLEventReader(bytes: Array(text.utf8)))
        return try builder.document()
    }
}

/// Turns the event stream into a tree, one document.
private struct TreeBuilder {
    let reader: YAMLEventReader
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var nodeCount = 0
    /// Values counted through aliases (they make the count grow without the text doing so).
    var aliasedNodes = 0

    mutating func document() throws(YAMLSyntaxError) -> YAMLNode? {
        _ = try reader.next()  // stream start
        let start = try reader.next()
        if case .streamEnd = start.kind { return nil }
        guard case .documentStart = start.kind else { throw unexpected(start) }
        let (root, _) = try node(reader.next(), depth: 0)
        _ = try reader.next()  // document end
        let after = try reader.next()
        if case .documentStart = after.kind {
            throw YAMLSyntaxError(
                mark: after.mark, problem: "a second YAML document starts here; cog.yaml must hold exactly one")
        }
        return root
    }

    private mutating func node(_ event: YAMLEvent, depth: Int) throws(YAMLSyntaxError) -> (YAMLNode, Int) {
        guard depth <= YAMLParser.maximumDepth else {
            throw YAMLSyntaxError(
                mark: event.mark, problem: "the document is nested more than \(YAMLParser.maximumDepth) levels deep")
        }
        switch event.kind {
        case .scalar(let text, let plain, let anchor, let tag):
            let result = YAMLNode(content: .scalar(text, plain: plain), mark: event.mark, tag: tag)
            return try register(result, size: 1, anchor: anchor, at: event)
        case .alias(let anchor):
            guard let (target, size) = anchors[anchor] else {
                throw YAMLSyntaxError(
                    mark: event.mark, problem: "the alias *\(anchor) names no anchor defined before it")
            }
            try count(size, at: event, throughAlias: true)
            return (target, size)
        case .sequenceStart(let anchor, let tag):
            var items: [YAMLNode] = []
            var size = 1
            while true {
                let next = try reader.next()
                if case .sequenceEnd = next.kind { break }
                let (item, itemSize) = try node(next, depth: depth + 1)
                items.append(item)
                size += itemSize
            }
            return try register(
                YAMLNode(content: .sequence(items), mark: event.mark, tag: tag), size: size, anchor: anchor, at: event)
        case .mappingStart(let anchor, let tag):
            var pairs: [YAMLPair] = []
            var merged: [YAMLPair] = []
            var size = 1
            while true {
                let next = try reader.next()
                if case .mappingEnd = next.kind { break }
                let (key, keySize) = try node(next, depth: depth + 1)
                let (value, valueSize) = try node(reader.next(), depth: depth + 1)
                size += keySize + valueSize
                if key.scalar == "<<", case .scalar(_, true) = key.content {
                    merged += try mergePairs(value)
                } else {
                    pairs.append(YAMLPair(key: key, value: value))
                }
            }
            // YAML merge keys: the mapping's own keys win over merged ones.
            let own = Set(pairs.compactMap(\.key.scalar))
            pairs += merged.filter { pair in pair.key.scalar.map { !own.contains($0) } ?? true }
            return try register(
                YAMLNode(content: .mapping(pairs), mark: event.mark, tag: tag), size: size, anchor: anchor, at: event)
        default:
            throw unexpected(event)
        }
    }

    private func mergePairs(_ value: YAMLNode) throws(YAMLSyntaxError) -> [YAMLPair] {
        if let pairs = value.mapping { return pairs }
        if let items = value.sequence {
            var result: [YAMLPair] = []
            for item in items {
                guard let pairs = item.mapping else {
                    throw YAMLSyntaxError(
                        mark: item.mark, problem: "a << merge key needs a mapping or a list of mappings")
                }
                result += pairs
            }
            return result
        }
        throw YAMLSyntaxError(mark: value.mark, problem: "a << merge key needs a mapping or a list of mappings")
    }

    private mutating func register(_ node: YAMLNode, size: Int, anchor: String?, at event: YAMLEvent)
        throws(YAMLSyntaxError) -> (YAMLNode, Int)
    {
        try count(1, at: event)
        if let anchor { anchors[anchor] = (node, size) }
        return (node, size)
    }

    private mutating func count(_ size: Int, at event: YAMLEvent, throughAlias: Bool = false)
        throws(YAMLSyntaxError)
    {
        nodeCount += size
        if throughAlias { aliasedNodes += size }
        guard nodeCount <= YAMLParser.maximumNodes else {
            let why =
                aliasedNodes > 0
                ? "the document expands to more than \(YAMLParser.maximumNodes) values (aliases repeat too much)"
                : "the document holds more than \(YAMLParser.maximumNodes) values; a cog.yaml is far smaller"
            throw YAMLSyntaxError(mark: event.mark, problem: why)
        }
    }

    private func unexpected(_ event: YAMLEvent) -> YAMLSyntaxError {
        YAMLSyntaxError(mark: event.mark, problem: "unexpected YAML structure")
    }
}
