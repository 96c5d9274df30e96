import CogEngine
import Foundation
import Registry
import Synchronization

/// Progress output: plain lines, live step output on a terminal, or JSON events for machines.
final class BuildReporter: BuildProgress, Sendable {
    enum Mode: String, CaseIterable, Sendable { case auto, tty, plain, json, quiet }

    let mode: Mode
    /// Lines from several threads never interleave.
    private let writing = Mutex(())

    init(mode: Mode, terminal: String? = Environment.current.variables["TERM"]) {
        if mode == .auto {
            self.mode = isatty(STDERR_FILENO) != 0 && terminal != "dumb" ? .tty : .plain
        } else {
            self.mode = mode
        }
    }

    private func emit(_ text: String) {
        writing.withLock { _ in FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    private func json(_ fields: [String: String]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        emit(String(decoding: data, as: UTF8.self))
    }

    /// A phase or step begins.
    func step(_ index: Int, of total: Int, _ title: String, cached: Bool) {
        switch mode {
        case .json:
            json(["event": "step", "index": "\(index)", "total": "\(total)", "title": title, "cached": "\(cached)"])
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
        case .started(let digest, let size):
            if mode == .json { json(["event": "blob-start", "digest": digest.description, "size": "\(size)"]) }
        case .progressed(let digest, let bytes, let size):
            if mode == .json {
                json(["event": "blob-progress", "digest": digest.description, "bytes": "\(bytes)", "size": "\(size)"])
            } else if mode == .tty {
                emit("   \(digest.encoded.prefix(12)) \(bytes * 100 / max(size, 1))% of \(ByteCount(size))")
            }
        case .finished(let digest, let size, let how):
            switch mode {
            case .json: json(["event": "blob-done", "digest": digest.description, "size": "\(size)", "how": how])
            case .quiet: break
            default: emit("   \(digest.encoded.prefix(12)) \(ByteCount(size)) \(how)")
            }
        case .retrying(let digest, let reason):
            warning("\(digest.map { String($0.encoded.prefix(12)) + ": " } ?? "")\(reason); retrying")
        }
    }
}
