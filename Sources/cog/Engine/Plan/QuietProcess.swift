import Foundation

/// A helper program run on the host for its standard output (git, the host's python3): no input, errors
/// discarded, killed after `timeout` seconds.
enum QuietProcess {
    /// The trimmed standard output of `process` (its executable, arguments and environment set), or nil when it
    /// cannot start, is killed, or exits with another status than 0.
    static func output(of process: Process, timeout: Double) -> String? {
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let timer = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
