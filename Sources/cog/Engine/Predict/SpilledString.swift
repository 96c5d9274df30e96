import Foundation
import OCI

/// A long JSON string left in the reply file: its raw text is read, unescaped and (for a data URL) decoded in
/// pieces, so a prediction's size never decides cog's memory.
public struct SpilledString: Sendable {
    let path: String
    /// The raw text between the quotes.
    let range: Range<Int64>

    /// Calls `body` with the raw (escaped) text, in pieces.
    func forEachRawChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file = try FileStream.openForReading(path)
        try file.seek(to: range.lowerBound)
        var remaining = Int(range.count)
        try file.forEachChunk { chunk in
            guard remaining > 0 else { return }
            let take = min(chunk.count, remaining)
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<take]))
            remaining -= take
        }
    }

    /// Calls `body` with the string's UTF-8 bytes (JSON escapes undone), in pieces.
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var unescaper = JSONUnescaper()
        try forEachRawChunk { raw in
            let bytes = unescaper.feed(raw)
            try bytes.withUnsafeBytes(body)
        }
    }

    /// The first `count` bytes of the string, unescaped.
    public func prefix(_ count: Int) throws -> String {
        var result = [UInt8]()
        struct Enough: Error {}
        do {
            try forEachChunk { bytes in
                result += bytes.prefix(count - result.count)
                if result.count >= count { throw Enough() }
            }
        } catch is Enough {}
        return String(decoding: result, as: UTF8.self)
    }

    /// Writes the string's bytes to a file created at `path`.
    public func write(to path: String) throws {
        let file = try FileStream.create(path)
        try forEachChunk { try file.write($0) }
        try file.close()
    }

    /// Decodes a `data:<mime>;base64,<payload>` string into a file created at `path`; returns the MIME type.
    /// - Throws: `PredictError.notADataURL` when the payload is not base64.
    public func writeDataURL(to path: String) throws -> String {
        let header = try prefix(512)
        guard header.hasPrefix("data:"), let comma = header.firstIndex(of: ",") else {
            throw PredictError.notADataURL(path: path)
        }
        let skip = header.utf8.distance(from: header.utf8.startIndex, to: comma.samePosition(in: header.utf8)!) + 1
        let mime = header[header.index(header.startIndex, offsetBy: 5)..<comma].split(separator: ";").first
        let file = try FileStream.create(path)
        var skipped = 0
        var pending = [UInt8]()
        try forEachChunk { bytes in
            var piece = bytes[...]
            if skipped < skip {
                let drop = min(skip - skipped, piece.count)
                piece = piece.dropFirst(drop)
                skipped += drop
            }
            pending += piece
            let whole = pending.count / 4 * 4
            guard whole > 0 else { return }
            guard let decoded = Data(base64Encoded: Data(pending[0..<whole])) else {
                throw PredictError.notADataURL(path: path)
            }
            try file.write(decoded)
            pending.removeFirst(whole)
        }
        if !pending.isEmpty {
            guard let decoded = Data(base64Encoded: Data(pending)) else { throw PredictError.notADataURL(path: path) }
            try file.write(decoded)
        }
        try file.close()
        return mime.map(String.init) ?? ""
    }
}

/// Undoes JSON string escapes in a stream of pieces (an escape may be cut between two).
struct JSONUnescaper {
    private var pending = [UInt8]()
    /// A high surrogate waiting for its low half.
    private var highSurrogate: UInt32?

    mutating func feed(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        let input = pending + raw
        pending.removeAll()
        var output = [UInt8]()
        output.reserveCapacity(input.count)
        input.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var i = 0
            while i < bytes.count {
                // Runs without escapes are copied whole (memchr), so megabytes of base64 pass quickly.
                guard let found = memchr(base + i, 0x5C, bytes.count - i) else {
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i...]))
                    return
                }
                let slash = found - UnsafeMutableRawPointer(mutating: base)
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<slash]))
                let kind = slash + 1 < bytes.count ? bytes[slash + 1] : nil
                let needed = kind == UInt8(ascii: "u") ? 6 : 2
                guard let kind, slash + needed <= bytes.count else {
                    pending = Array(bytes[slash...])
                    return
                }
                if kind == UInt8(ascii: "u") {
                    let hex = String(
                        decoding: UnsafeRawBufferPointer(rebasing: bytes[(slash + 2)..<(slash + 6)]), as: UTF8.self)
                    appendScalar(UInt32(hex, radix: 16) ?? 0xFFFD, to: &output)
                } else {
                    let simple: [UInt8: UInt8] = [0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
                    output.append(simple[kind] ?? kind)  // \" \\ \/ stand for themselves
                }
                i = slash + needed
            }
        }
        return output
    }

    private mutating func appendScalar(_ value: UInt32, to output: inout [UInt8]) {
        var value = value
        if (0xD800...0xDBFF).contains(value) {
            highSurrogate = value
            return
        }
        if (0xDC00...0xDFFF).contains(value), let high = highSurrogate {
            value = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
        }
        highSurrogate = nil
        output += Array(String(Unicode.Scalar(value).map(Character.init) ?? "\u{FFFD}").utf8)
    }
}
