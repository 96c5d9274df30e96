import CSupport
import Foundation
import OCI

/// The content of a file being archived. Only its data regions are read (`SEEK_DATA`/`SEEK_HOLE`): the holes of
/// a sparse file become zeros from a buffer, never read byte by byte. A file that is replaced, grows, shrinks or
/// is written to between the scan and the end of its entry is an error that names it: the entry's header already
/// promised a size, and the layer must not hold a mix of two versions.
final class FileContentSource {
    let path: BytePath
    let size: Int64
    private var fd: Int32
    private let opened: stat
    /// Bytes read from the file so far (holes are not read).
    private(set) var bytesRead: Int64 = 0

    /// Opens `path`, which the scan saw as a regular file of `size` bytes.
    init(path: BytePath, size: Int64) throws {
        self.path = path
        self.size = size
        fd = try PathCalls.openForReading(path)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let cause = SystemCallError("stat", path: nil)
            Glibc.close(fd)
            throw LayersError.unreadable(path: path.description, cause: cause)
        }
        opened = st
        guard st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw LayersError.fileChanged(path: path.description, detail: "it is no longer a regular file")
        }
        guard Int64(st.st_size) == size else {
            Glibc.close(fd)
            throw LayersError.fileChanged(
                path: path.description,
                detail: "it had \(size) bytes when the tree was scanned and has \(st.st_size) now")
        }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Hands the content to `write` in chunks, holes as zeros.
    func copy(_ write: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < size {
            let data = region(COG_SEEK_DATA, from: offset, otherwise: offset)
            if data > offset {
                try writeZeros(count: data - offset, buffer: buffer, write)
                offset = data
                continue
            }
            var hole = region(COG_SEEK_HOLE, from: offset, otherwise: size)
            if hole <= offset { hole = size }  // the file changed under us; the check at the end reports it
            while offset < hole {
                let want = Int(min(Int64(buffer.count), hole - offset))
                let n = pread(fd, buffer.baseAddress, want, off_t(offset))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw LayersError.unreadable(path: path.description, cause: SystemCallError("read", path: nil))
                }
                if n == 0 {
                    throw LayersError.fileChanged(
                        path: path.description, detail: "it shrank to \(offset) bytes from \(size) while being read")
                }
                try write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                offset += Int64(n)
                bytesRead += Int64(n)
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw LayersError.unreadable(path: path.description, cause: SystemCallError("stat", path: nil))
        }
        if Int64(st.st_size) != size || st.st_mtim.tv_sec != opened.st_mtim.tv_sec
            || st.st_mtim.tv_nsec != opened.st_mtim.tv_nsec
        {
            throw LayersError.fileChanged(path: path.description, detail: "it was written to while being read")
        }
    }

    /// The next data or hole offset at or after `offset`, at most `size`; `otherwise` where the file system
    /// cannot tell (then the whole file counts as data).
    private func region(_ whence: Int32, from offset: Int64, otherwise: Int64) -> Int64 {
        let found = lseek(fd, off_t(offset), whence)
        if found >= 0 { return min(Int64(found), size) }
        // ENXIO: no data from `offset` to the end, the rest is one hole.
        return errno == ENXIO && whence == COG_SEEK_DATA ? size : otherwise
    }

    private func writeZeros(
        count: Int64, buffer: UnsafeMutableRawBufferPointer, _ write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        var remaining = count
        while remaining > 0 {
            let take = Int(min(Int64(buffer.count), remaining))
            try write(UnsafeRawBufferPointer(rebasing: buffer[0..<take]))
            remaining -= Int64(take)
        }
    }
}
