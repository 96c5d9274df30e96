import Foundation

/// What a finished command printed and returned.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var output: String { stdout + stderr }
}

/// Runs a command to completion (looked up on PATH), capturing its output.
@discardableResult
public func runCommand(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil, directory: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let inPipe = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
    try process.run()
    if let input {
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
    }
    // Read both pipes concurrently so a chatty command cannot fill one and block.
    let errBox = DataBox()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self))
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
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: full))
        chmod(full, mode_t(mode))
        return full
    }
}

/// Whether the tests run as root (some checks, like device nodes and chown, need it).
public var isRoot: Bool { geteuid() == 0 }
