import CYAML

/// One libyaml parser event, converted to Swift values.
struct YAMLEvent: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(anchor: String)
        case scalar(String, plain: Bool, anchor: String?, tag: String?)
        case sequenceStart(anchor: String?, tag: String?)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?)
        case mappingEnd
    }

    var kind: Kind
    var mark: SourceMark
}

/// A libyaml syntax error: where it is and what libyaml said.
struct YAMLSyntaxError: Error, Sendable, Equatable {
    var mark: SourceMark
    var problem: String
    /// What libyaml was parsing, and where that started ("while parsing a block mapping", line 2).
    var context: String?
    var contextMark: SourceMark?
}

/// Owns one `yaml_parser_t` reading one in-memory document and hands out its events.
///
/// The parser and the input bytes live in manually allocated memory so their addresses never move while
/// libyaml holds pointers into them; `deinit` frees both.
final class YAMLEventReader {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let bytes: [UInt8]

    /// Prepares to read `bytes` (UTF-8, UTF-16 with BOM also accepted by libyaml).
    init(bytes: [UInt8]) throws(YAMLSyntaxError) {
        self.bytes = bytes
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        guard yaml_parser_initialize(parser) == 1 else {
            // libyaml only fails here when it cannot allocate its buffers.
            throw YAMLSyntaxError(
                mark: SourceMark(line: 1, column: 1), problem: "the YAML parser could not allocate memory")
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event, or the syntax error that stopped libyaml.
    func next() throws(YAMLSyntaxError) -> YAMLEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw currentError() }
        defer { yaml_event_delete(&event) }
        let mark = SourceMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: return YAMLEvent(kind: .streamStart, mark: mark)
        case YAML_STREAM_END_EVENT: return YAMLEvent(kind: .streamEnd, mark: mark)
        case YAML_DOCUMENT_START_EVENT: return YAMLEvent(kind: .documentStart, mark: mark)
        case YAML_DOCUMENT_END_EVENT: return YAMLEvent(kind: .documentEnd, mark: mark)
        case YAML_ALIAS_EVENT:
            return YAMLEvent(kind: .alias(anchor: Self.text(event.data.alias.anchor) ?? ""), mark: mark)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value =
                scalar.value.map {
                    String(decoding: UnsafeBufferPointer(start: $0, count: Int(scalar.length)), as: UTF8.self)
                } ?? ""
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE
            return YAMLEvent(
                kind: .scalar(value, plain: plain, anchor: Self.text(scalar.anchor), tag: Self.text(scalar.tag)),
                mark: mark)
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return YAMLEvent(
                kind: .sequenceStart(anchor: Self.text(start.anchor), tag: Self.text(start.tag)), mark: mark)
        case YAML_SEQUENCE_END_EVENT: return YAMLEvent(kind: .sequenceEnd, mark: mark)
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return YAMLEvent(
                kind: .mappingStart(anchor: Self.text(start.anchor), tag: Self.text(start.tag)), mark: mark)
        case YAML_MAPPING_END_EVENT: return YAMLEvent(kind: .mappingEnd, mark: mark)
        default:
            throw YAMLSyntaxError(mark: mark, problem: "unexpected YAML event \(event.type.rawValue)")
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafePointer($0)) }
    }

    /// libyaml's error state as a `YAMLSyntaxError`; reader errors (bad bytes) only carry an offset.
    private func currentError() -> YAMLSyntaxError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        if state.error == YAML_READER_ERROR {
            let offset = Int(state.problem_offset)
            let value = Int(state.problem_value)
            let detail = (0...0xFF).contains(value) ? " (byte 0x\(String(value, radix: 16, uppercase: true)))" : ""
            return YAMLSyntaxError(mark: markForOffset(offset), problem: problem + detail)
        }
        let mark = SourceMark(line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1)
        let context = state.context.map { String(cString: $0) }
        let contextMark =
            context == nil
            ? nil
            : SourceMark(line: Int(state.context_mark.line) + 1, column: Int(state.context_mark.column) + 1)
        return YAMLSyntaxError(mark: mark, problem: problem, context: context, contextMark: contextMark)
    }

    private func markForOffset(_ offset: Int) -> SourceMark {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceMark(line: line, column: column)
    }
}
