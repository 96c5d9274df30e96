import CSupport
import Foundation
import OCI
import Synchronization

/// A child process with its output merged into one pipe, spawned with posix_spawn (every other descriptor
/// closed in the child, stdin /dev/null unless passed through, optionally a process group of its own) and reaped
/// with waitpid.
/// Foundation's `Process` is avoided: it detects exit through a descriptor the child inherits, which any daemon
/// the child leaves behind keeps open. Exits are awaited on a pidfd, never by sleeping in a loop.
final class SpawnedProcess: Sendable {
    let pid: pid_t
    private let readEnd: Int32
    /// Readable once the child has exited (-1 when the kernel has no pidfd_open: waits then poll every 50 ms).
    private let exitDescriptor: Int32
    private let status = Mutex<Int32?>(nil)
    private let outputDone = DispatchSemaphore(value: 0)

    /// - Parameter ownProcessGroup: start a process group of its own, out of reach of the terminal's Ctrl-C.
    ///   The child inherits this process's environment as it is (nothing is read from it here).
    /// - Parameter standardInput: the child reads this process's standard input (else /dev/null).
    init(_ arguments: [String], ownProcessGroup: Bool = true, standardInput: Bool = false) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw LayersError.posix("pipe", arguments[0]) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if !standardInput { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        cog_spawn_closefrom(&actions, 3)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(fds[1])
        guard code == 0 else {
            close(fds[0])
            throw LayersError.system(SystemCallError("start", path: arguments[0], errno: code))
        }
        self.pid = pid
        readEnd = fds[0]
        exitDescriptor = cog_pidfd_open(pid)
    }

    deinit {
        close(readEnd)
        if exitDescriptor >= 0 { close(exitDescriptor) }
    }

    /// Reads the output until the pipe closes, one line at a time (a line over 64 KiB in pieces of that size).
    func forEachLine(_ body: (String) -> Void) {
        defer { outputDone.signal() }
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(readEnd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0a) {
                body(String(decoding: pending[start..<newline], as: UTF8.self))
                start = newline + 1
            }
            pending.removeFirst(start)
            // Output without newlines must not grow without bound: a long run is passed on in pieces.
            if pending.count >= 1 << 16 {
                body(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
    }

    func waitForOutput() { outputDone.wait() }

    /// How a wait ended.
    enum WaitEnd { case exited, cancelled, timedOut }

    /// Waits until the child exits, `cancel` is set, or `deadline` passes, whichever comes first.
    func wait(cancel: CancelFlag, deadline: Date?) -> WaitEnd {
        while true {
            if reap(blocking: false) { return .exited }
            if cancel.isSet { return .cancelled }
            let remaining = deadline.map { $0.timeIntervalSinceNow } ?? .infinity
            if remaining <= 0 { return .timedOut }
            var fds = [
                pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: cancel.descriptor, events: Int16(POLLIN), revents: 0),
            ].filter { $0.fd >= 0 }
            let pollsEverything = exitDescriptor >= 0 && cancel.descriptor >= 0
            let milliseconds = pollsEverything ? Int32(min(remaining * 1000, 3_600_000)) : 50
            _ = poll(&fds, nfds_t(fds.count), max(1, milliseconds))
        }
    }

    /// Waits for the child to exit.
    func waitForExit() { _ = reap(blocking: true) }

    /// Reaps the child if it has exited (or waits for it); true once its status is known.
    private func reap(blocking: Bool) -> Bool {
        status.withLock { status in
            if status != nil { return true }
            var raw: Int32 = 0
            while true {
                let done = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
                if done == pid {
                    status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                    return true
                }
                if done < 0 && errno == EINTR { continue }
                return false
            }
        }
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    var exitStatus: Int32 { status.withLock { $0 } ?? -1 }
}
