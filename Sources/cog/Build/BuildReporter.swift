import Foundation
import Registry

/// Progress output: plain lines, live step output on a terminal, or JSON events for machines.
final class BuildReporter: TransferProgress, @unchecked Sendable {
    enum Mode: String, CaseIterable, Sendable { case auto, tty, plain, json, quiet }

    let mode: Mode
    private let lock = NSLock()

    init(mode: Mode) {
        if mode == .auto {
            let environment = ProcessInfo.processInfo.environment
            self.mode = isatty(STDERR_FILENO) != 0 && environment["TERM"] != "dumb" ? .tty : .plain
        } else {
            self.mode = mode
        }
    }

    private func emit(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private func json(_ fields: [String: String]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        emit(String(decoding: data, as: UTF8.self))
    }

    /// A phase or step begins.
    func step(_ index: Int, of total: Int, _ title: String, cached: Bool = false) {
        switch mode {
        case .json: json(["event": "step", "index": "\(index)", "total": "\(total)", "title": title, "cached": "\(cached)"])
        case .quiet: break
        default: emit("=> [\(index)/\(total)] \(title)\(cached ? "  (cached)" : "")")
        }
    }

    /// A line the running step printed.
    func output(_ line: String) {
        switch mode {
        case .json: json(["event": "output", "line": line])
        case .quiet: break
        default: emit("   | \(line)")
        }
    }

    func info(_ message: String) {
        switch mode {
        case .json: json(["event": "info", "message": message])
        case .quiet: break
        default: emit(message)
        }
    }

    func warning(_ message: String) {
        switch mode {
        case .json: json(["event": "warning", "message": message])
        default: emit("warning: \(message)")
        }
    }

    func report(_ event: TransferEvent) {
        switch event {
        case let .started(digest, size):
            if mode == .json { json(["event": "blob-start", "digest": digest.description, "size": "\(size)"]) }
        case let .progressed(digest, bytes, size):
            if mode == .json { json(["event": "blob-progress", "digest": digest.description, "bytes": "\(bytes)", "size": "\(size)"]) }
            else if mode == .tty { emit("   \(digest.encoded.prefix(12)) \(bytes * 100 / max(size, 1))% of \(Self.bytes(size))") }
        case let .finished(digest, size, how):
            switch mode {
            case .json: json(["event": "blob-done", "digest": digest.description, "size": "\(size)", "how": how])
            case .quiet: break
            default: emit("   \(digest.encoded.prefix(12)) \(Self.bytes(size)) \(how)")
            }
        case let .retrying(digest, reason):
            warning("\(digest.map { String($0.encoded.prefix(12)) + ": " } ?? "")\(reason); retrying")
        }
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
