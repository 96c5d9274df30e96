import CDeflate
import CZlib

/// One block of a parallel gzip stream: raw DEFLATE by libdeflate, then made joinable.
///
/// libdeflate compresses a whole buffer and always marks its last DEFLATE block final (BFINAL), with no way to
/// flush mid-stream or to prime a dictionary. To let the next block follow, zlib's `inflate` walks the block
/// boundaries (`Z_BLOCK`), which tells where the final block's header starts and where it ends; its BFINAL bit
/// is cleared and an empty stored block follows (what zlib's `Z_SYNC_FLUSH` writes), so the next block starts
/// on a byte boundary. The stream's last block keeps BFINAL. Each block depends only on its own bytes, so the
/// output never depends on how many threads compressed it.
final class DeflateBlock {
    private let compressor: OpaquePointer

    /// - Parameter level: libdeflate level 1–12 (6 is gzip's default).
    init(level: Int32) throws {
        compressor = try DeflateCall.handle(libdeflate_alloc_compressor(level), "allocate a level \(level) compressor")
    }

    deinit { libdeflate_free_compressor(compressor) }

    /// Compresses `input` as raw DEFLATE; unless `last`, the result ends byte-aligned and not final.
    func compress(_ input: UnsafeRawBufferPointer, last: Bool) throws -> [UInt8] {
        // Room for the empty stored block appended below (at most 5 bytes).
        let bound = libdeflate_deflate_compress_bound(compressor, input.count) + 8
        var output = [UInt8](repeating: 0, count: bound)
        let produced = try output.withUnsafeMutableBytes { out in
            try DeflateCall.check(
                size: libdeflate_deflate_compress(compressor, input.baseAddress, input.count, out.baseAddress, bound),
                "compress a block")
        }
        output.removeSubrange(produced...)
        if !last { try Self.unfinalize(&output, decompressedSize: input.count) }
        return output
    }

    /// Clears BFINAL on the final block of `stream` and ends it with an empty stored block.
    static func unfinalize(_ stream: inout [UInt8], decompressedSize: Int) throws {
        let (finalStart, end) = try finalBlock(of: stream, decompressedSize: decompressedSize)
        guard (end + 7) / 8 == stream.count else {
            throw LayersError.compression(
                library: "libdeflate", operation: "find the end of a block's stream", code: Int32(Z_DATA_ERROR))
        }
        stream[finalStart / 8] &= ~(UInt8(1) << UInt8(finalStart % 8))
        if end % 8 != 0 { stream[end / 8] &= (UInt8(1) << UInt8(end % 8)) - 1 }
        // A stored block header is 3 bits (BFINAL 0, BTYPE 00); they fit in the zero padding of the last byte
        // when at least 3 bits are free, otherwise they spill into one more byte. Then LEN 0 and NLEN 0xffff.
        if stream.count * 8 - end < 3 { stream.append(0) }
        stream += [0x00, 0x00, 0xff, 0xff]
    }

    /// Bit positions of the final block's header and of its end, found by inflating `stream` block by block.
    static func finalBlock(of stream: [UInt8], decompressedSize: Int) throws -> (start: Int, end: Int) {
        var inflater = z_stream()
        try ZlibCall.check(cog_inflateInit2(&inflater, -15), "start inflating a block")
        defer { inflateEnd(&inflater) }
        var scratch = [UInt8](repeating: 0, count: decompressedSize + 1)
        var blockStart = 0
        return try stream.withUnsafeBufferPointer { input in
            try scratch.withUnsafeMutableBufferPointer { output in
                inflater.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                inflater.avail_in = uInt(input.count)
                inflater.next_out = output.baseAddress
                inflater.avail_out = uInt(output.count)
                while true {
                    let code = inflate(&inflater, Z_BLOCK)
                    try ZlibCall.check(code, "walk the blocks of a compressed block")
                    // zlib.h: data_type = unused bits of the last input byte, +64 in the final block, +128 at a
                    // block boundary.
                    let flags = Int(inflater.data_type)
                    let position = (input.count - Int(inflater.avail_in)) * 8 - (flags & 63)
                    if flags & 128 != 0 {
                        if flags & 64 != 0 { return (blockStart, position) }
                        blockStart = position
                    } else if inflater.avail_in == 0 {
                        throw LayersError.compression(
                            library: "zlib", operation: "walk the blocks of a compressed block", code: Z_BUF_ERROR)
                    }
                }
            }
        }
    }
}

/// The one checker for zlib results.
enum ZlibCall {
    static func check(_ code: Int32, _ operation: String) throws {
        guard code == Z_OK else { throw LayersError.compression(library: "zlib", operation: operation, code: code) }
    }
}

/// The one checker for libdeflate results: allocation returns nil when out of memory, compression returns 0
/// bytes when the output does not fit.
enum DeflateCall {
    static func handle(_ made: OpaquePointer?, _ operation: String) throws -> OpaquePointer {
        guard let made else { throw LayersError.compression(library: "libdeflate", operation: operation, code: 0) }
        return made
    }

    static func check(size: Int, _ operation: String) throws -> Int {
        guard size > 0 else { throw LayersError.compression(library: "libdeflate", operation: operation, code: 0) }
        return size
    }
}
