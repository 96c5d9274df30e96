import CArchive
import Foundation
import OCI

/// The digest of a layer blob's uncompressed content (its diffID), whatever the compression (gzip, zstd or
/// none): the check that a layer from somewhere less trusted than its image's config (a registry step cache)
/// holds what its diffID says, before it enters the layer store under that name.
public enum UncompressedDigest {
    public static func of(blob path: String) throws -> Digest {
        let archive = try ArchiveCall.handle(archive_read_new(), "raw reader")
        defer { archive_read_free(archive) }
        try ArchiveCall.check(archive_read_support_filter_all(archive), archive, "enable the decompression filters")
        try ArchiveCall.check(archive_read_support_format_raw(archive), archive, "enable the raw format")
        try ArchiveCall.check(archive_read_open_filename(archive, path, 1 << 20), archive, "open layer", path: path)
        var entry: OpaquePointer?
        try ArchiveCall.check(archive_read_next_header(archive, &entry), archive, "read", path: path)
        let hasher = try DigestHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if n == 0 { break }
            guard n > 0 else {
                try ArchiveCall.check(Int32(truncatingIfNeeded: n), archive, "decompress", path: path)
                throw LayersError.archive(operation: "decompress", path: path, message: "libarchive returned \(n)")
            }
            try hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return try hasher.finalize()
    }
}
