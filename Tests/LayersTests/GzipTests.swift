import CZlib
import Foundation
import TestSupport
import Testing

@testable import Layers

@Suite struct GzipTests {
    static func compress(_ input: [UInt8], threads: Int, level: Int = 6) throws -> [UInt8] {
        let memory = MemorySink()
        let gzip = ParallelGzipWriter(memory, level: level, threads: threads)
        // Feed in odd-sized pieces so block boundaries fall inside writes.
        var offset = 0
        while offset < input.count {
            let take = min(77_777, input.count - offset)
            try input[offset..<offset + take].withUnsafeBytes { try gzip.write($0) }
            offset += take
        }
        try gzip.finish()
        return memory.bytes
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = try TemporaryDirectory()
        let path = "\(dir.path)/x.gz"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try runCommand(["sh", "-c", "gzip -t \(path) && gzip -dc \(path) | od -An -v -tx1 | tr -d ' \\n'"])
        guard result.status == 0 else { throw TestSetupError("gzip -dc \(path): \(result.stderr)") }
        var out: [UInt8] = []
        var chars = Array(result.stdout.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }

    static func sample(_ count: Int) -> [UInt8] {
        var state: UInt32 = 12345
        return (0..<count).map { i in
            state = state &* 1_103_515_245 &+ 12345
            return i % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 16) : UInt8(ascii: "a") + UInt8(i % 26)
        }
    }

    @Test(arguments: [
        0, 1, 1000, ParallelGzipWriter.blockSize, ParallelGzipWriter.blockSize + 1,
        3 * ParallelGzipWriter.blockSize + 12345,
    ])
    func gzipReadsBackWhatWasWritten(size: Int) throws {
        let input = Self.sample(size)
        let compressed = try Self.compress(input, threads: 2)
        #expect(Array(compressed.prefix(10)) == [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff])
        #expect(try Self.gunzip(compressed) == input)
    }

    @Test func outputDoesNotDependOnThreadCount() throws {
        let input = Self.sample(5 * ParallelGzipWriter.blockSize + 999)
        let one = try Self.compress(input, threads: 1)
        let four = try Self.compress(input, threads: 4)
        #expect(one == four)
    }

    @Test func levelChangesTheOutputButNotTheContent() throws {
        let input = Self.sample(2 * ParallelGzipWriter.blockSize)
        let fast = try Self.compress(input, threads: 2, level: 1)
        let best = try Self.compress(input, threads: 2, level: 9)
        #expect(fast != best)
        #expect(try Self.gunzip(fast) == input)
    }

    /// libdeflate's blocks joined after clearing BFINAL: every padding case (the stored block's 3 header bits
    /// fitting in the last byte or spilling into a new one), empty pieces included, decodes to the concatenation.
    @Test func joinedLibdeflateBlocksDecodeToTheirConcatenation() throws {
        var stream: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]
        var expected: [UInt8] = []
        var paddings = Set<Int>()
        let compressor = try DeflateBlock(level: 6)
        for size in [0, 1, 2, 3, 5, 8, 13, 40, 100, 333, 1000, 4096, 20000, 65536, 70001] + Array(700..<740) {
            let piece = Self.sample(size).map { $0 &+ UInt8(truncatingIfNeeded: size) }
            let raw = try piece.withUnsafeBytes { try compressor.compress($0, last: true) }
            let end = try DeflateBlock.finalBlock(of: raw, decompressedSize: size).end
            paddings.insert(raw.count * 8 - end)
            stream += try piece.withUnsafeBytes { try compressor.compress($0, last: false) }
            expected += piece
        }
        let tail = Self.sample(5000)
        stream += try tail.withUnsafeBytes { try compressor.compress($0, last: true) }
        expected += tail
        let crc = UInt32(truncatingIfNeeded: expected.withUnsafeBytes { crc32(0, $0.baseAddress, uInt($0.count)) })
        for value in [crc, UInt32(truncatingIfNeeded: expected.count)] {
            stream += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
        }
        #expect(paddings.contains { $0 < 3 } && paddings.contains { $0 >= 3 }, "padding cases seen: \(paddings)")
        #expect(try Self.gunzip(stream) == expected)
    }

    /// The parallel writer's output is no larger than gzip -6's, within 1%.
    @Test func sizeIsWithinOnePercentOfGzip6() throws {
        let input = Self.sample(4 * ParallelGzipWriter.blockSize + 4321)
        let ours = try Self.compress(input, threads: 2)
        let dir = try TemporaryDirectory()
        try Data(input).write(to: URL(fileURLWithPath: "\(dir.path)/x"))
        let gzip = try runCommand(["sh", "-c", "gzip -6 -c \(dir.path)/x | wc -c"])
        let reference = try #require(Int(gzip.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Double(ours.count) <= Double(reference) * 1.01, "ours \(ours.count), gzip -6 \(reference)")
    }
}
