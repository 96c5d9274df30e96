import CArchive
import Foundation

/// zstd compression through libarchive's zstd filter (a "raw" archive holding one stream), so the project needs
/// no further C library. Level 3 is zstd's default.
public final class ZstdWriter: ByteSink {
    private var archive: OpaquePointer?
    private let next: ByteSink
    private var callbackError: Error?
    private var closed = false

    public init(_ next: ByteSink, level: Int = 3) throws {
        self.next = next
        archive = try ArchiveCall.handle(archive_write_new(), "zstd writer")
        try check(archive_write_set_format_raw(archive), "select raw output")
        try check(archive_write_add_filter_zstd(archive), "enable zstd (libarchive was built without it?)")
        try check(
            archive_write_set_filter_option(archive, "zstd", "compression-level", "\(max(1, min(19, level)))"),
            "set the zstd level")
        try check(archive_write_set_bytes_in_last_block(archive, 1), "set the zstd block size")
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        try check(
            archive_write_open2(
                archive, opaque, nil,
                { _, context, buffer, length in
                    let writer = Unmanaged<ZstdWriter>.fromOpaque(context!).takeUnretainedValue()
                    do {
                        try writer.next.write(UnsafeRawBufferPointer(start: buffer, count: length))
                        return la_ssize_t(length)
                    } catch {
                        writer.callbackError = error
                        return -1
                    }
                }, nil, nil), "start the zstd stream")
        guard let entry = archive_entry_new() else {
            throw LayersError.archive(operation: "start the zstd stream", path: nil, message: "out of memory")
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, "layer")
        archive_entry_set_filetype(entry, COG_AE_IFREG)
        try check(archive_write_header(archive, entry), "start the zstd stream")
    }

    deinit { if let archive { archive_write_free(archive) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = archive_write_data(archive, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { try check(n < 0 ? Int32(n) : ARCHIVE_FATAL, "compress with zstd") }
            offset += n
        }
    }

    public func finish() throws {
        guard !closed else { return }
        closed = true
        try check(archive_write_close(archive), "finish the zstd stream")
        try next.finish()
    }

    private func check(_ code: Int32, _ operation: String) throws {
        try ArchiveCall.check(code, archive, operation, callbackError: callbackError)
    }
}
