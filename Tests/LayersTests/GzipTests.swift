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
}
