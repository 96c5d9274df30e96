import Foundation

/// The dynamic linker's cache (`/etc/ld.so.cache`, what `ldconfig -p` prints), read as nvidia-container-cli
/// reads it (libnvidia-container's ldcache.c): glibc's "glibc-ld.so.cache1.1" format, the only one glibc ≥ 2.32
/// writes, alone or after the old "ld.so-1.7.0" table.
struct LinkerCache: Sendable {
    /// One library: its soname (`libcuda.so.1`) and the path the cache gives for it.
    struct Entry: Sendable, Equatable {
        var soname: String
        var path: String
    }

    /// The 64-bit x86 entries, in the cache's order.
    let entries: [Entry]

    /// Reads `file`; nil when it is missing or not a cache this reader knows.
    init?(file: String) {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        let bytes = [UInt8](data)
        let magic = Array("glibc-ld.so.cache1.1".utf8)
        guard let start = Self.find(magic, in: bytes) else { return nil }
        func u32(_ offset: Int) -> UInt32? {
            guard offset >= 0, offset + 4 <= bytes.count else { return nil }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
        }
        func string(_ offset: UInt32) -> String? {
            // Offsets of the new format count from the start of its header.
            let begin = start + Int(offset)
            guard begin < bytes.count, let end = bytes[begin...].firstIndex(of: 0) else { return nil }
            return String(decoding: bytes[begin..<end], as: UTF8.self)
        }
        guard let count = u32(start + 20) else { return nil }
        // Header: magic and version (20 bytes), nlibs, len_strings, flags and padding, extension offset, 3 unused
        // words; each entry: flags, key, value, osversion (4 bytes each), hwcap (8).
        let headerSize = 48
        let entrySize = 24
        var entries: [Entry] = []
        for index in 0..<Int(min(count, 1_000_000)) {
            let offset = start + headerSize + index * entrySize
            guard let flags = u32(offset), let key = u32(offset + 4), let value = u32(offset + 8),
                let soname = string(key), let path = string(value)
            else { break }
            // FLAG_ELF_LIBC6 (0x0003) with FLAG_X8664_LIB64 (0x0300): 64-bit x86 libraries only.
            if flags & 0x00ff == 0x0003, flags & 0xff00 == 0x0300 { entries.append(Entry(soname: soname, path: path)) }
        }
        self.entries = entries
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        // The new table starts the file, or follows the old one (whose size varies).
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }
}
