import CArchive
import CSupport
import Foundation

/// Reads tar streams (plain, gzip or zstd, detected) through libarchive, one header at a time.
public final class TarReader {
    public enum EntryType: Equatable, Sendable {
        case regular, directory, fifo
        case symlink(BytePath)
        case hardlink(BytePath)
        case device(character: Bool, major: UInt32, minor: UInt32)
    }

    /// The parts of a tar header extraction needs.
    public struct Header: Sendable {
        /// The name as the header holds it, byte for byte (PAX `path` records included, even when marked
        /// `hdrcharset=BINARY` because they are not UTF-8).
        public var path: BytePath
        public var type: EntryType
        public var mode: mode_t
        public var uid: Int64
        public var gid: Int64
        public var size: Int64
        public var mtime: Int64
        public var xattrs: [String: [UInt8]]
    }

    private var archive: OpaquePointer?
    public let path: String

    /// Opens the tar (or compressed tar) at `path`.
    public init(path: String) throws {
        self.path = path
        archive = try ArchiveCall.handle(archive_read_new(), "tar reader")
        try ArchiveCall.check(archive_read_support_filter_all(archive), archive, "enable the decompression filters")
        try ArchiveCall.check(archive_read_support_format_tar(archive), archive, "enable the tar format")
        try ArchiveCall.check(archive_read_support_format_empty(archive), archive, "enable empty archives")
        try ArchiveCall.check(archive_read_open_filename(archive, path, 1 << 20), archive, "open layer", path: path)
    }

    deinit { if let archive { archive_read_free(archive) } }

    /// The next header, or nil at the end of the archive.
    public func next() throws -> Header? {
        // Names come out byte for byte only in the C locale (see cog_use_c_locale); the warning libarchive gives
        // for a name it could not convert is expected.
        let locale = cog_use_c_locale()
        defer { cog_restore_locale(locale) }
        var entry: OpaquePointer?
        let code = archive_read_next_header(archive, &entry)
        if code == ARCHIVE_EOF { return nil }
        try ArchiveCall.check(code, archive, "read tar header in", path: path)
        guard let entry else {
            throw LayersError.archive(operation: "read tar header in", path: path, message: "no entry")
        }
        // The multibyte form is the header's bytes; the _utf8 form is null for a name that is not UTF-8.
        guard let pathname = BytePath(cString: archive_entry_pathname(entry)) else {
            throw LayersError.archive(operation: "read tar header in", path: path, message: "entry without a path")
        }
        let type: EntryType
        if let link = BytePath(cString: archive_entry_hardlink(entry)) {
            type = .hardlink(link)
        } else {
            switch mode_t(archive_entry_filetype(entry)) {
            case mode_t(COG_AE_IFDIR): type = .directory
            case mode_t(COG_AE_IFLNK): type = .symlink(BytePath(cString: archive_entry_symlink(entry)) ?? "")
            case mode_t(COG_AE_IFCHR):
                type = .device(
                    character: true, major: UInt32(archive_entry_rdevmajor(entry)),
                    minor: UInt32(archive_entry_rdevminor(entry)))
            case mode_t(COG_AE_IFBLK):
                type = .device(
                    character: false, major: UInt32(archive_entry_rdevmajor(entry)),
                    minor: UInt32(archive_entry_rdevminor(entry)))
            case mode_t(COG_AE_IFIFO): type = .fifo
            case mode_t(COG_AE_IFREG): type = .regular
            default:
                throw LayersError.hostileEntry(
                    path: pathname.description, reason: "unsupported entry type \(archive_entry_filetype(entry))")
            }
        }
        var xattrs: [String: [UInt8]] = [:]
        archive_entry_xattr_reset(entry)
        var xname: UnsafePointer<CChar>?
        var xvalue: UnsafeRawPointer?
        var xsize = 0
        while archive_entry_xattr_next(entry, &xname, &xvalue, &xsize) == ARCHIVE_OK {
            guard let xname else { continue }
            xattrs[String(cString: xname)] = xvalue.map { Array(UnsafeRawBufferPointer(start: $0, count: xsize)) } ?? []
        }
        return Header(
            path: pathname, type: type, mode: mode_t(archive_entry_perm(entry)),
            uid: Int64(archive_entry_uid(entry)), gid: Int64(archive_entry_gid(entry)),
            size: archive_entry_size_is_set(entry) != 0 ? Int64(archive_entry_size(entry)) : 0,
            mtime: Int64(archive_entry_mtime(entry)), xattrs: xattrs)
    }

    /// Streams the current entry's content into `sink`.
    public func copyData(to sink: ByteSink) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if n == 0 { return }
            guard n > 0 else {
                try ArchiveCall.check(Int32(truncatingIfNeeded: n), archive, "read entry data in", path: path)
                throw LayersError.archive(
                    operation: "read entry data in", path: path, message: "libarchive returned \(n)")
            }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
