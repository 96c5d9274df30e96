import Synchronization

/// The last lines a command printed (for the error message when it fails), or all of them with `limit: .max`.
public final class OutputTail: Sendable {
    private let buffer = Mutex<[String]>([])
    public let limit: Int

    public init(limit: Int = 25) { self.limit = limit }

    public func add(_ line: String) {
        buffer.withLock { lines in
            lines.append(line)
            if lines.count > limit { lines.removeFirst(lines.count - limit) }
        }
    }

    public var lines: [String] { buffer.withLock { $0 } }
}
