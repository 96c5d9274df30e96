import Foundation

/// Copy-on-write clones (`FICLONE`, as `cp --reflink` does) on file systems that have them (Btrfs, XFS, …).
enum Reflink {
    /// `_IOW(0x94, 9, int)` from linux/fs.h.
    private static let ficlone: UInt = 0x4004_9409

    /// Clones `source` into a new file at `destination`; false (and nothing left at `destination`) where the file
    /// system cannot, so the caller copies instead.
    static func clone(_ source: String, to destination: String) -> Bool {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return false }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { return false }
        let cloned = ioctl(output, ficlone, input) == 0
        close(output)
        if !cloned { unlink(destination) }
        return cloned
    }
}
