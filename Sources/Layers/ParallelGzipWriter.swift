import CDeflate
import CZlib
import Dispatch
import Foundation

/// gzip in independent blocks compressed in parallel (the pigz idea), forming one valid gzip member.
///
/// The input is cut into fixed-size blocks. Each block is raw-deflated on its own by libdeflate and made
/// joinable (`DeflateBlock`: not final, ending byte-aligned) except the last, so the blocks concatenate to one
/// DEFLATE stream; CRC-32s combine in order. Blocks are not primed with the previous block's tail (libdeflate
/// has no preset dictionary); at 1 MiB that costs about 0.1% of size, and libdeflate's better parsing more than
/// makes up for it. The output depends on the level and the block size only, never on the number of threads.
/// The header is fixed (no name, mtime 0, OS 255) so the same input gives the same bytes on every machine.
public final class ParallelGzipWriter: ByteSink {
    /// Bytes per block; part of the output format, so a constant.
    public static let blockSize = 1 << 20

    private let next: ByteSink
    private let level: Int32
    private let maxInFlight: Int
    private var buffer: [UInt8]
    private var pending: [BlockJob] = []
    private var crc: UInt = 0
    private var totalLength: UInt64 = 0
    private var wroteHeader = false
    private var finished = false
    private static let queue = DispatchQueue(label: "cog.gzip", attributes: .concurrent)

    /// - Parameters:
    ///   - next: receives the compressed stream.
    ///   - level: 1–12 (libdeflate's levels; 6 is gzip's default, and what layers use).
    ///   - threads: blocks compressed at once; defaults to the number of cores.
    public init(_ next: ByteSink, level: Int = 6, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.next = next
        self.level = Int32(max(1, min(12, level)))
        self.maxInFlight = max(1, threads) * 2
        self.buffer = []
        buffer.reserveCapacity(Self.blockSize)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(Self.blockSize - buffer.count, bytes.count - offset)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
            if buffer.count == Self.blockSize { try submit(last: false) }
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try submit(last: true)
        while !pending.isEmpty { try drainOldest() }
        var trailer = [UInt8](repeating: 0, count: 8)
        for i in 0..<4 {
            trailer[i] = UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: crc) >> (8 * UInt32(i)))
            trailer[4 + i] = UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: totalLength) >> (8 * UInt32(i)))
        }
        try next.write(trailer)
        try next.finish()
    }

    private func submit(last: Bool) throws {
        if !wroteHeader {
            wroteHeader = true
            // RFC 1952: magic, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=255 (unknown)
            try next.write([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff])
        }
        let job = BlockJob(input: buffer, level: level, last: last)
        buffer = []
        buffer.reserveCapacity(Self.blockSize)
        pending.append(job)
        Self.queue.async { job.run() }
        while pending.count >= maxInFlight { try drainOldest() }
    }

    private func drainOldest() throws {
        let job = pending.removeFirst()
        job.done.wait()
        if let error = job.error { throw error }
        try job.output.withUnsafeBytes { try next.write($0) }
        crc = crc32_combine(crc, job.crc, Int(job.input.count))
        totalLength &+= UInt64(job.input.count)
    }
}

/// One block's work. Its fields are written by one worker before `done` is signalled and read only after
/// waiting on it, which orders the accesses.
private final class BlockJob: @unchecked Sendable {
    let input: [UInt8]
    let level: Int32
    let last: Bool
    let done = DispatchSemaphore(value: 0)
    var output: [UInt8] = []
    var crc: UInt = 0
    var error: Error?

    init(input: [UInt8], level: Int32, last: Bool) {
        self.input = input
        self.level = level
        self.last = last
    }

    func run() {
        defer { done.signal() }
        do {
            try input.withUnsafeBytes { bytes in
                crc = UInt(libdeflate_crc32(0, bytes.baseAddress, bytes.count))
                output = try DeflateBlock(level: level).compress(bytes, last: last)
            }
        } catch {
            self.error = error
        }
    }
}
