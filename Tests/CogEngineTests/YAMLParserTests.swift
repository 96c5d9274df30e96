import TestSupport
import Testing

@testable import CogEngine

@Suite struct YAMLParserTests {
    @Test func scalarsKeepTheirTextAndPosition() throws {
        let root = try #require(try YAMLParser.parse("build:\n  python_version: 3.10\n  cuda: \"11.0\"\n"))
        let build = try #require(root.mapping?.first?.value.mapping)
        #expect(build[0].value.scalar == "3.10")
        #expect(build[0].value.mark == SourceMark(line: 2, column: 19))
        #expect(build[1].value.content == .scalar("11.0", plain: false))
        #expect(build[1].key.mark == SourceMark(line: 3, column: 3))
    }

    @Test func emptyAndCommentOnlyDocumentsHaveNoRoot() throws {
        #expect(try YAMLParser.parse("") == nil)
        #expect(try YAMLParser.parse("# only a comment\n") == nil)
    }

    @Test func nullValues() throws {
        let root = try #require(try YAMLParser.parse("a:\nb: ~\nc: null\nd: \"\"\n"))
        let values = try #require(root.mapping).map(\.value.isNull)
        #expect(values == [true, true, true, false])
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let yaml = "base: &b {gpu: true, cuda: \"11.8\"}\nbuild:\n  <<: *b\n  cuda: \"12.1\"\nlist: [*b]\n"
        let pairs = try #require(try YAMLParser.parse(yaml)?.mapping)
        let build = try #require(pairs[1].value.mapping)
        #expect(build.map { $0.key.scalar } == ["cuda", "gpu"])
        #expect(build[0].value.scalar == "12.1")
        #expect(pairs[2].value.sequence?.first?.mapping?.count == 2)
    }

    @Test func syntaxErrorsCarryPositions() {
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse("build:\n  gpu: true\n bad: [\n") }
        do {
            _ = try YAMLParser.parse("a: b: c\n")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.mark == SourceMark(line: 1, column: 5))
            #expect(error.problem.contains("mapping values are not allowed"))
        }
    }

    @Test func hostileDocumentsAreRefused() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse(deep) }
        var laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...6 {
            laughs +=
                "l\(level): &l\(level) ["
                + Array(repeating: level == 1 ? "*a" : "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse(laughs) }
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse("a: 1\n---\nb: 2\n") }
        #expect(throws: YAMLSyntaxError.self) { try YAMLParser.parse("a: *missing\n") }
    }

    @Test func invalidUTF8IsASyntaxError() throws {
        var bytes = Array("build:\n  gpu: ".utf8)
        bytes += [0xFF, 0xFE, 0x0A]
        #expect(throws: YAMLSyntaxError.self) { _ = try YAMLEventReader(bytes: bytes).nextAll() }
    }
}

extension YAMLEventReader {
    /// Reads every event (for tests).
    func nextAll() throws(YAMLSyntaxError) -> [YAMLEvent] {
        var events: [YAMLEvent] = []
        while true {
            let event = try next()
            events.append(event)
            if event.kind == .streamEnd { return events }
        }
    }
}
