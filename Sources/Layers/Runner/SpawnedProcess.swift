import CSupport
import Foundation
import OCI

/// A child process with its output merged into one pipe, spawned with posix_spawn (every other descriptor
/// closed in the child, stdin /dev/null, a process group of its own) and reaped with waitpid. Foundation's `Process` is avoided: it detects exit through a
/// descriptor the child inherits, which any daemon the child leaves behind keeps open.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    private let readEnd: Int32
    private let lock = NSLock()
    private var status: Int32?
    private let outputDone = DispatchSemaphore(value: 0)

    /// - Parameter ownProcessGroup: start a process group of its own, out of reach of the terminal's Ctrl-C.
    init(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment, ownProcessGroup: Bool = true) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw LayersError.posix("pipe", "(sandbox)") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        cog_spawn_closefrom(&actions, 3)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        // A process group of its own: Ctrl-C at the terminal reaches cog, which stops the step in order (and can
        // tell an interruption from a failing step), instead of reaching the step's processes directly.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(fds[1])
        guard code == 0 else {
            close(fds[0])
            throw LayersError.io(operation: "start", path: arguments[0], reason: String(cString: strerror(code)))
        }
        self.pid = pid
        readEnd = fds[0]
    }

    deinit { close(readEnd) }

    /// Reads the output until the pipe closes, one line at a time.
    func forEachLine(_ body: (String) -> Void) {
        defer { outputDone.signal() }
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(readEnd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: 0x0a) {
                body(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
    }

    func waitForOutput() { outputDone.wait() }

    func hasExited() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if status != nil { return true }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = decode(raw) }
        return status != nil
    }

    func waitForExit() {
        while !hasExited() {
            var raw: Int32 = 0
            if waitpid(pid, &raw, 0) == pid {
                lock.lock()
                status = decode(raw)
                lock.unlock()
            }
        }
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    var exitStatus: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return status ?? -1
    }

    private func decode(_ raw: Int32) -> Int32 {
        (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }
}
