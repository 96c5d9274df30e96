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

    /// What the registry did with every blob of a push (skipped, mounted or uploaded, with the bytes sent), and
    /// the totals.
    func pushReport(_ report: PushReport) {
        if mode != .json && mode != .quiet { emit("what the registry did with each blob:") }
        for blob in report.blobs {
            switch mode {
            case .json:
                json([
                    "event": "push-blob", "digest": blob.digest.description, "size": "\(blob.size)",
                    "outcome": blob.outcome.rawValue, "sent": "\(blob.bytesSent)",
                ])
            case .quiet: break
            default:
                emit("   \(blob.digest.encoded.prefix(12)) \(ByteCount(blob.size)) \(blob.outcome.rawValue)")
            }
        }
        let summary =
            "\(report.blobs.count) blobs: \(report.count(.uploaded)) uploaded (\(ByteCount(report.bytesSent)) sent), \(report.count(.mounted)) mounted, \(report.count(.skipped)) already in the registry"
        if mode == .json {
            json([
                "event": "push-summary", "blobs": "\(report.blobs.count)", "uploaded": "\(report.count(.uploaded))",
                "mounted": "\(report.count(.mounted))", "skipped": "\(report.count(.skipped))",
                "sent": "\(report.bytesSent)",
            ])
        } else {
            info(summary)
        }
    }
}
