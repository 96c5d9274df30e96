import Foundation

/// Writes an extracted file's content to an open descriptor, leaving holes where whole chunks are zeros, so a
/// sparse file (a disk image, a preallocated weights file) stays sparse in the layer store. Closes it.
final class SparseFileSink: ByteSink {
    private var fd: Int32
    let path: String
    private var offset: Int64 = 0
    /// Whether the last chunk was skipped, so the file must be extended to its length at the end.
    private var endsInHole = false

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        // Only chunks of at least a file-system block are worth a hole; a non-zero byte usually shows at once.
        if bytes.count >= 4096, !bytes.contains(where: { $0 != 0 }) {
            offset += Int64(bytes.count)
            endsInHole = true
            return
        }
        var written = 0
        while written < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw LayersError.posix("write", path)
            }
            written += n
            offset += Int64(n)
        }
        endsInHole = false
    }

    /// Gives the file its full length when it ends in a hole.
    func finish() throws {
        if endsInHole, ftruncate(fd, off_t(offset)) != 0 { throw LayersError.posix("truncate", path) }
        endsInHole = false
    }

    func close() throws {
        let fd = self.fd
        self.fd = -1
        guard Glibc.close(fd) == 0 else { throw LayersError.posix("close", path) }
    }
}
