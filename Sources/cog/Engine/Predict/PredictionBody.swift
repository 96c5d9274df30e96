import Foundation
import OCI

/// A prediction reply read from the file it was streamed to, whatever its size: the JSON is parsed with every
/// long string (a data URL of a large file, megabytes of logs) left in the file and replaced by a placeholder,
/// so memory holds only the reply's structure. The long strings are then written out in pieces
/// (`SpilledString`).
public struct PredictionBody: Sendable {
    /// The file holding the raw reply.
    public let path: String
    /// The parsed reply, its long strings as placeholders (`spilled(_:)` recognises them).
    public nonisolated(unsafe) let object: Any
    /// Where each long string's raw (still escaped) text lies in the file.
    let spills: [Range<Int64>]

    /// A string longer than this (in raw bytes) stays in the file.
    public static let defaultThreshold = 1 << 20
    static let marker = "\u{0}cog-spill:"

    /// Parses the reply in `path`.
    /// - Throws: `PredictError.notAPrediction` when it is not JSON; read errors.
    public static func read(
        path: String, status: Int, threshold: Int = defaultThreshold, chunkSize: Int = 1 << 20
    ) throws -> PredictionBody {
        var scanner = SpillScanner(threshold: threshold)
        try FileStream.openForReading(path).forEachChunk(size: chunkSize) { try scanner.feed($0) }
        guard !scanner.inString, let object = try? JSONSerialization.jsonObject(with: scanner.skeleton) else {
            let head = try? FileStream.openForReading(path)
            var prefix = [UInt8](repeating: 0, count: 2000)
            let count = (try? prefix.withUnsafeMutableBytes { try head?.read(into: $0) ?? 0 }) ?? 0
            throw PredictError.notAPrediction(status: status, body: String(decoding: prefix[0..<count], as: UTF8.self))
        }
        return PredictionBody(path: path, object: object, spills: scanner.spills)
    }

    /// The long string `value` stands for, when it is a placeholder.
    public func spilled(_ value: Any?) -> SpilledString? {
        guard let text = value as? String, text.hasPrefix(Self.marker),
            let index = Int(text.dropFirst(Self.marker.count)), spills.indices.contains(index)
        else { return nil }
        return SpilledString(path: path, range: spills[index])
    }

    /// A short form of a value for messages (a long string's first characters).
    public func summary(_ value: Any?) -> String {
        if let spill = spilled(value) { return (try? spill.prefix(2000)).map { $0 + "…" } ?? "(unreadable)" }
        if let text = value as? String { return text }
        guard let value, JSONSerialization.isValidJSONObject(value) || value is NSNumber,
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return value.map { "\($0)" } ?? "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `value` as JSON to `sink`, long strings copied from the file in pieces; `pretty` indents it as Cog
    /// does (`JSONIndent`).
    public func writeJSON(_ value: Any, pretty: Bool, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
        let compact = try JSONSerialization.data(withJSONObject: value, options: options)
        let text = pretty ? JSONIndent.indent(compact) : compact
        // JSONSerialization writes the placeholder's NUL as \u0000: splice the raw text in there.
        let token = Array("\"\\u0000cog-spill:".utf8)
        var rest = text[...]
        while let start = rest.firstRange(of: token) {
            let digits = rest[start.upperBound...].prefix { (0x30...0x39).contains($0) }
            try Data(rest[..<start.lowerBound]).withUnsafeBytes(sink)
            if let index = Int(String(decoding: digits, as: UTF8.self)), spills.indices.contains(index) {
                try Data("\"".utf8).withUnsafeBytes(sink)
                try SpilledString(path: path, range: spills[index]).forEachRawChunk(sink)
                try Data("\"".utf8).withUnsafeBytes(sink)
            }
            rest = rest[(digits.endIndex + 1)...]  // past the closing quote
        }
        try Data(rest).withUnsafeBytes(sink)
    }
}

/// Splits a JSON text into its structure (long strings replaced by placeholders) and the file ranges of the
/// long strings. Quotes are found with `memchr`, so hundreds of megabytes pass quickly.
struct SpillScanner {
    let threshold: Int
    var skeleton = Data()
    var spills: [Range<Int64>] = []
    private(set) var inString = false
    private var offset: Int64 = 0
    private var stringStart: Int64 = 0
    private var buffer = Data()
    private var spilling = false
    /// Backslashes that ended the previous chunk inside a string.
    private var carriedBackslashes = 0

    init(threshold: Int) { self.threshold = threshold }

    mutating func feed(_ chunk: UnsafeRawBufferPointer) throws {
        guard let base = chunk.baseAddress else { return }
        var i = 0
        while i < chunk.count {
            let quote = memchr(base + i, 0x22, chunk.count - i).map { $0 - UnsafeMutableRawPointer(mutating: base) }
            if !inString {
                let end = quote.map { $0 + 1 } ?? chunk.count
                skeleton.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[i..<end]))
                if quote != nil {
                    inString = true
                    stringStart = offset + Int64(end)
                    (buffer, spilling, carriedBackslashes) = (Data(), false, 0)
                }
                i = end
                continue
            }
            guard let quote else {
                let run = Self.backslashesBefore(chunk.count, from: i, in: chunk)
                carriedBackslashes = run == chunk.count - i ? carriedBackslashes + run : run
                keep(chunk, i..<chunk.count)
                i = chunk.count
                continue
            }
            var run = Self.backslashesBefore(quote, from: i, in: chunk)
            if run == quote - i { run += carriedBackslashes }
            keep(chunk, i..<(quote + (run % 2 == 1 ? 1 : 0)))
            carriedBackslashes = 0
            if run % 2 == 1 {  // an escaped quote: the string goes on
                i = quote + 1
                continue
            }
            if spilling {
                skeleton.append(contentsOf: "\\u0000cog-spill:\(spills.count)\"".utf8)
                spills.append(stringStart..<(offset + Int64(quote)))
            } else {
                skeleton.append(buffer)
                skeleton.append(0x22)
            }
            inString = false
            i = quote + 1
        }
        offset += Int64(chunk.count)
    }

    private mutating func keep(_ chunk: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard !spilling else { return }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[range]))
        if buffer.count > threshold { (spilling, buffer) = (true, Data()) }
    }

    /// How many backslashes come right before `end`, not looking before `start`.
    private static func backslashesBefore(_ end: Int, from start: Int, in chunk: UnsafeRawBufferPointer) -> Int {
        var count = 0
        while end - count > start && chunk[end - count - 1] == 0x5C { count += 1 }
        return count
    }
}
