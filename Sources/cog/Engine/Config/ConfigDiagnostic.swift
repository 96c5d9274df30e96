/// One problem found in cog.yaml or a file it names: where, what was expected, and how to fix it.
///
/// Rendered the way compilers do:
/// ```
/// cog.yaml:3:19: Python 3.7 is not supported: cog supports Python 3.8 to 3.13
///     3 |   python_version: 3.7
///       |                   ^
///   hint: set a supported version, e.g. python_version: "3.12"
/// ```
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    enum Severity: Sendable, Hashable { case error, warning }

    var severity: Severity
    /// The file as a person names it (`cog.yaml`, `requirements.txt`).
    var file: String
    /// Where the problem starts; nil when it concerns the whole file.
    var mark: SourceMark?
    /// The text of the line at `mark`, quoted under the message.
    var sourceLine: String?
    var message: String
    var hint: String?
    /// Where the caret goes in `sourceLine` (differs from `mark` when a long line is quoted in part).
    var caretColumn: Int?

    public var description: String {
        var text = file
        if let mark { text += ":\(mark.line):\(mark.column)" }
        text += severity == .warning ? ": warning: " : ": "
        text += message
        if let mark, let sourceLine {
            let number = String(mark.line)
            let gutter = String(repeating: " ", count: number.count)
            text += "\n    \(number) | \(sourceLine)"
            text += "\n    \(gutter) | \(Self.caretPadding(sourceLine, column: caretColumn ?? mark.column))^"
        }
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// Spaces up to `column`, keeping tabs so the caret lines up under tab-indented text.
    private static func caretPadding(_ line: String, column: Int) -> String {
        var padding = ""
        for character in line.prefix(max(column - 1, 0)) { padding.append(character == "\t" ? "\t" : " ") }
        if column - 1 > line.count { padding += String(repeating: " ", count: column - 1 - line.count) }
        return padding
    }
}

/// Collects the diagnostics of one text file, quoting its lines as they are reported.
struct DiagnosticLog: Sendable {
    let file: String
    private let lines: [String]
    private(set) var diagnostics: [ConfigDiagnostic] = []
    private var recorded = Set<ConfigDiagnostic>()
    /// At most this many are kept: a file of a hundred thousand bad items reports quickly, and readably.
    static let limit = 100
    /// Lines longer than this are quoted as a window around the column.
    static let quotedWidth = 160

    /// A log for `file` whose text is `text` (used to quote lines).
    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
    }

    /// The diagnostics in file order (those about the whole file last), equal positions in the order found.
    var inFileOrder: [ConfigDiagnostic] {
        let far = SourceMark(line: Int.max, column: Int.max)
        return diagnostics.enumerated().sorted { lhs, rhs in
            let (left, right) = (lhs.element.mark ?? far, rhs.element.mark ?? far)
            return left == right ? lhs.offset < rhs.offset : left < right
        }.map(\.element)
    }

    var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }
    var warnings: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .warning } }
    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Records an error at `mark` (or about the whole file when nil).
    mutating func error(_ message: String, at mark: SourceMark?, hint: String? = nil) {
        add(.error, message, at: mark, hint: hint)
    }

    /// Records a warning at `mark` (or about the whole file when nil).
    mutating func warning(_ message: String, at mark: SourceMark?, hint: String? = nil) {
        add(.warning, message, at: mark, hint: hint)
    }

    /// The text of line `number` (1-based), if the file has it.
    func line(_ number: Int) -> String? {
        lines.indices.contains(number - 1) ? lines[number - 1] : nil
    }

    private mutating func add(
        _ severity: ConfigDiagnostic.Severity, _ message: String, at mark: SourceMark?, hint: String?
    ) {
        guard diagnostics.count < Self.limit else { return }
        var (quoted, column) = (mark.flatMap { line($0.line) }, mark?.column ?? 1)
        if let text = quoted, text.count > Self.quotedWidth {
            // Quote a window around the spot of a very long line (a minified or generated file).
            let start = max(0, min(column - 1 - Self.quotedWidth / 2, text.count - Self.quotedWidth))
            let window = text.dropFirst(start).prefix(Self.quotedWidth)
            quoted = (start > 0 ? "…" : "") + window + (start + window.count < text.count ? "…" : "")
            column = column - start + (start > 0 ? 1 : 0)
        }
        let diagnostic = ConfigDiagnostic(
            severity: severity, file: file, mark: mark, sourceLine: quoted, message: message, hint: hint,
            caretColumn: column)
        guard recorded.insert(diagnostic).inserted else { return }
        diagnostics.append(diagnostic)
        if diagnostics.count == Self.limit {
            diagnostics.append(
                ConfigDiagnostic(
                    severity: .error, file: file, message: "more than \(Self.limit) problems; the rest are not shown",
                    hint: "fix these first"))
        }
    }
}
