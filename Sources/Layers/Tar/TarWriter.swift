import CArchive
import Foundation
import OCI

/// Writes deterministic tar streams through libarchive (PAX restricted: plain ustar headers unless a path over
/// 100 bytes or not ASCII, a size of 8 GiB or more, a large id or xattrs need PAX records).
///
/// Names and link targets go to libarchive as raw bytes. A name that is not UTF-8 is written as GNU tar and
/// BuildKit write it: a PAX `path` (or `linkpath`) record holding the bytes, marked `hdrcharset=BINARY`
/// (libarchive reports that as a warning, which is expected here).
///
/// Determinism: the caller gives entries in order; uname and gname stay empty; only mtime is written, clamped to
/// `sourceDateEpoch`; no atime or ctime. Same entries give the same bytes.
public final class TarWriter {
    private var archive: OpaquePointer?
    private let sink: ByteSink
    private let sourceDateEpoch: Int64?
    private var callbackError: Error?
    private var closed = false

    /// - Parameters:
    ///   - sink: receives the tar bytes.
    ///   - sourceDateEpoch: mtimes later than this are clamped to it; nil keeps them as given.
    public init(_ sink: ByteSink, sourceDateEpoch: Int64?) throws {
        self.sink = sink
        self.sourceDateEpoch = sourceDateEpoch
        archive = try ArchiveCall.handle(archive_write_new(), "tar writer")
        try check(archive_write_set_format_pax_restricted(archive), "select the tar format")
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        try check(
            archive_write_open2(
                archive, opaque, nil,
                { _, context, buffer, length in
                    let writer = Unmanaged<TarWriter>.fromOpaque(context!).takeUnretainedValue()
                    do {
                        try writer.sink.write(UnsafeRawBufferPointer(start: buffer, count: length))
                        return la_ssize_t(length)
                    } catch {
                        writer.callbackError = error
                        return -1
                    }
                }, nil, nil), "start the tar stream")
    }

    deinit { if let archive { archive_write_free(archive) } }

    /// Appends one entry; a regular file's content is streamed from its source.
    public func append(_ entry: TarEntry) throws {
        guard let item = archive_entry_new() else {
            throw LayersError.archive(
                operation: "create a tar entry for", path: entry.path.description, message: "out of memory")
        }
        defer { archive_entry_free(item) }
        // Raw bytes, never converted through the locale (a failed conversion left libarchive with a null name).
        entry.path.withCString { archive_entry_copy_pathname(item, $0) }
        archive_entry_set_uid(item, la_int64_t(entry.uid))
        archive_entry_set_gid(item, la_int64_t(entry.gid))
        let mtime = sourceDateEpoch.map { min(entry.mtime, $0) } ?? entry.mtime
        archive_entry_set_mtime(item, time_t(max(0, mtime)), 0)
        var type: mode_t = mode_t(COG_AE_IFREG)
        switch entry.kind {
        case .regular(let content):
            archive_entry_set_size(item, la_int64_t(content.size))
        case .directory:
            type = mode_t(COG_AE_IFDIR)
        case .symlink(let target):
            type = mode_t(COG_AE_IFLNK)
            target.withCString { archive_entry_copy_symlink(item, $0) }
        case .hardlink(let target):
            target.withCString { archive_entry_copy_hardlink(item, $0) }
            archive_entry_set_size(item, 0)
        case .characterDevice(let major, let minor):
            type = mode_t(COG_AE_IFCHR)
            archive_entry_set_rdevmajor(item, dev_t(major))
            archive_entry_set_rdevminor(item, dev_t(minor))
        case .blockDevice(let major, let minor):
            type = mode_t(COG_AE_IFBLK)
            archive_entry_set_rdevmajor(item, dev_t(major))
            archive_entry_set_rdevminor(item, dev_t(minor))
        case .fifo:
            type = mode_t(COG_AE_IFIFO)
        }
        archive_entry_set_filetype(item, UInt32(type))
        archive_entry_set_perm(item, mode_t(entry.mode & 0o7777))
        // An empty value cannot be carried: in a PAX record it means "delete the keyword" (POSIX pax; Go's reader
        // and umoci drop it), so readers would disagree on what it meant.
        for (name, value) in entry.xattrs.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            value.withUnsafeBytes { archive_entry_xattr_add_entry(item, name, $0.baseAddress, $0.count) }
        }
        // Open the source before the header, so an unreadable file fails before any byte of its entry is written.
        var source: FileContentSource?
        if case .regular(.file(let path, let size)) = entry.kind {
            source = try FileContentSource(path: path, size: size)
        }
        try check(archive_write_header(archive, item), "write the tar header of", entry.path.description)
        if case .regular(.bytes(let bytes)) = entry.kind {
            try bytes.withUnsafeBytes { try writeData($0, path: entry.path.description) }
        }
        try source?.copy { try writeData($0, path: entry.path.description) }
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = archive_write_data(archive, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { try check(Int32(n), "write the content of", path) }
            if n == 0 { break }
            offset += n
        }
    }

    /// Writes the end-of-archive blocks and finishes the sink.
    public func finish() throws {
        guard !closed else { return }
        closed = true
        try check(archive_write_close(archive), "finish the tar stream")
        try sink.finish()
    }

    private func check(_ code: Int32, _ operation: String, _ path: String? = nil) throws {
        try ArchiveCall.check(code, archive, operation, path: path, callbackError: callbackError)
    }
}
