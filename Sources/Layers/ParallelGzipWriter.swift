import CZlib
import Dispatch
import Foundation

/// gzip in independent blocks compressed in parallel (the pigz idea), forming one valid gzip member.
///
/// The input is cut into fixed-size blocks. Each block is raw-deflated on its own, primed with the last 32 KiB
/// of the block before it as dictionary, and ends on a byte boundary (sync flush) except the last (finish). The
/// blocks concatenate to one deflate stream; CRC-32s combine in order. The output depends on the level and the
/// block size only, never on the number of threads. The header is fixed (no name, mtime 0, OS 255) so the same
/// input gives the same bytes on every machine.
public final class ParallelGzipWriter: ByteSink {
    /// Bytes per block; part of the output format, so a constant.
    public static let blockSize = 1 << 20
    private static let dictionarySize = 32 << 10

    private let next: ByteSink
    private let level: Int32
    private let maxInFlight: Int
    private var buffer: [UInt8]
    private var previousTail: [UInt8] = []
    private var pending: [BlockJob] = []
    private var crc: UInt = 0
    private var totalLength: UInt64 = 0
    private var wroteHeader = false
    private var finished = false
    private static let queue = DispatchQueue(label: "cog.gzip", attributes: .concurrent)

    /// - Parameters:
    ///   - next: receives the compressed stream.
    ///   - level: zlib level 1–9 (6 is gzip's default).
    ///   - threads: blocks compressed at once; defaults to the number of cores.
    public init(_ next: ByteSink, level: Int = 6, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.next = next
        self.level = Int32(max(1, min(9, level)))
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
        let job = BlockJob(input: buffer, dictionary: previousTail, level: level, last: last)
        if buffer.count >= Self.dictionarySize {
            previousTail = Array(buffer[(buffer.count - Self.dictionarySize)...])
        } else {
            previousTail = Array((previousTail + buffer).suffix(Self.dictionarySize))
        }
        buffer = []
        buffer.reserveCapacity(Self.blockSize)
        pending.append(job)
        Self.queue.async { job.run() }
        while pending.count >= maxInFlight { try drainOldest() }
    }

    private func drainOldest() throws {
        let job = pending.removeFirst()
        job.done.wait()
        if job.status != Z_OK && job.status != Z_STREAM_END {
            throw LayersError.compression(operation: "deflate", code: job.status)
        }
        try job.output.withUnsafeBytes { try next.write($0) }
        crc = crc32_combine(crc, job.crc, Int(job.input.count))
        totalLength &+= UInt64(job.input.count)
    }
}

/// One block's work. Its fields are written by one worker before `done` is signalled and read only after
/// waiting on it, which orders the accesses.
private final class BlockJob: @unchecked Sendable {
    let input: [UInt8]
    let dictionary: [UInt8]
    let level: Int32
    let last: Bool
    let done = DispatchSemaphore(value: 0)
    var output: [UInt8] = []
    var crc: UInt = 0
    var status: Int32 = Z_OK

    init(input: [UInt8], dictionary: [UInt8], level: Int32, last: Bool) {
        self.input = input
        self.dictionary = dictionary
        self.level = level
        self.last = last
    }

    func run() {
        defer { done.signal() }
        var stream = z_stream()
        status = cog_deflateInit2(&stream, level, -15)
        guard status == Z_OK else { return }
        defer { deflateEnd(&stream) }
        if !dictionary.isEmpty {
            status = dictionary.withUnsafeBufferPointer {
                deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count))
            }
            guard status == Z_OK else { return }
        }
        crc = input.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 64
        output = [UInt8](repeating: 0, count: bound)
        var produced = 0
        input.withUnsafeBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                status = deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH)
                produced = outBuffer.count - Int(stream.avail_out)
            }
        }
        if last && status == Z_STREAM_END { status = Z_OK }
        if !last && status == Z_BUF_ERROR && stream.avail_in == 0 { status = Z_OK }
        if stream.avail_in != 0 && status == Z_OK { status = Z_BUF_ERROR }
        output.removeSubrange(produced...)
    }
}
