import Foundation
import OCI

/// Files that builds name after their process (`NAME.tmp-PID-N`, `.incoming-PID-N`, `<kind>-PID-…` scratch
/// dirs), and the clean-up of those whose process is gone (killed in the middle of a write or a step).
public enum StaleFiles {
    /// Whether `pid` is a live process (a zombie nobody reaped is not: its work is over).
    public static func isRunning(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// Removes the temporary names in `directory` (`NAME.tmp-PID-N` from `FileSystem.temporarySibling`,
    /// `.incoming-PID-N` from `BlobStore.temporaryPath`) left by processes that are gone; live ones keep theirs.
    public static func removeTemporaries(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let marker =
                name.hasPrefix(".incoming-")
                ? name.range(of: ".incoming-") : name.range(of: ".tmp-", options: .backwards)
            guard let marker else { continue }
            let parts = name[marker.upperBound...].split(separator: "-")
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, pid != getpid(), UInt64(parts[1]) != nil else {
                continue
            }
            if !isRunning(pid) { FileSystem.remove("\(directory)/\(name)") }
        }
    }

    /// Removes scratch dirs named `<kind>-<pid>[-…]` in `directory` whose process is gone (steps, secret files,
    /// flat trees of killed builds); live builds keep theirs.
    public static func removeScratch(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let parts = name.split(separator: "-")
            guard parts.count >= 2, let pid = Int32(parts[1]), pid > 0, pid != getpid() else { continue }
            if !isRunning(pid) { FileSystem.remove("\(directory)/\(name)") }
        }
    }
}
