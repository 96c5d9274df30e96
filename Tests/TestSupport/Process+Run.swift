import CSupport
import Foundation

/// What a finished command printed and returned.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var output: String { stdout + stderr }
}

/// Runs a command to completion (looked up on PATH), capturing its output.
///
/// Spawned with posix_spawn and every descriptor above 2 closed in the child: Foundation's `Process` learns
/// that a child exited from a socket the child inherits, so a daemon the child leaves running would make
/// `waitUntilExit` hang.
@discardableResult
public func runCommand(
    _ arguments: [String], environment: [String: String]? = nil, input: String? = nil, directory: String? = nil
) throws -> CommandResult {
    var env = ProcessInfo.processInfo.environment
    if let environment { env.merge(environment) { $1 } }
    let inPipe = Pipe()
    let outPipe = Pipe()
    let errPipe = Pipe()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe.fileHandleForReading.fileDescriptor, 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe.fileHandleForWriting.fileDescriptor, 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe.fileHandleForWriting.fileDescriptor, 2)
    cog_spawn_closefrom(&actions, 3)
    if let directory { cog_spawn_chdir(&actions, directory) }
    let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for item in argv + envp { free(item) }
    }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
    try? inPipe.fileHandleForReading.close()
    try? outPipe.fileHandleForWriting.close()
    try? errPipe.fileHandleForWriting.close()
    guard code == 0 else {
        throw TestSetupError("cannot start \(arguments.joined(separator: " ")): \(String(cString: strerror(code)))")
    }
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try? inPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty command cannot fill one and block.
    let errBox = DataBox()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return CommandResult(
        status: exit, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errBox.data, as: UTF8.self))
}

private final class DataBox: @unchecked Sendable { var data = Data() }

/// Whether a command exists on PATH.
public func commandExists(_ name: String) -> Bool {
    (try? runCommand(["sh", "-c", "command -v \(name)"]))?.status == 0
}

/// A fresh temporary directory, removed when the returned object is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    public init(_ label: String = "cog-test") throws {
        let base = ProcessInfo.processInfo.environment["COG_TEST_TMPDIR"] ?? NSTemporaryDirectory()
        path = "\(base)/\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a file (and its parents) below the directory.
    @discardableResult
    public func write(_ relative: String, _ content: String, mode: Int = 0o644) throws -> String {
        let full = "\(path)/\(relative)"
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: full))
        chmod(full, mode_t(mode))
        return full
    }
}

/// Whether the tests run as root (some checks, like device nodes and chown, need it).
public var isRoot: Bool { geteuid() == 0 }

/// Starts a long-running process with stdin from /dev/null and output to `log`; returns its pid.
public func spawnDetached(_ arguments: [String], log: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    cog_spawn_closefrom(&actions, 3)
    let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
    let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for item in argv + envp { free(item) }
    }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
    guard code == 0 else {
        throw TestSetupError("cannot start \(arguments.joined(separator: " ")): \(String(cString: strerror(code)))")
    }
    return pid
}
