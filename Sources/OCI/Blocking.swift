import Foundation
import Synchronization

/// The one way blocking work (a step, an extraction, a wait for a process, a curl transfer) leaves Swift's
/// cooperative pool: it runs on a thread of its own, and the caller suspends until it is done.
public enum Blocking {
    /// Runs `work` on a new thread and returns its result.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// Work started now on a thread of its own, whose result is collected later (a layer written while the next
/// steps run). `result()` blocks; call it from blocking code or through `Blocking.run`.
public final class BackgroundWork<T: Sendable>: Sendable {
    private let state = Mutex<Result<T, Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    public init(_ work: @escaping @Sendable () throws -> T) {
        Thread.detachNewThread { [self] in
            let result = Result { try work() }
            state.withLock { $0 = result }
            done.signal()
        }
    }

    /// Work that starts once `previous` has ended (whatever its result), so that several pieces run one after
    /// the other, in order, each result available as soon as its own piece is done.
    public convenience init<P>(after previous: BackgroundWork<P>?, _ work: @escaping @Sendable () throws -> T) {
        self.init {
            _ = try? previous?.result()
            return try work()
        }
    }

    /// Work that is already finished.
    public init(finished value: T) {
        state.withLock { $0 = .success(value) }
        done.signal()
    }

    /// Whether the work has ended (its result is there).
    public var isFinished: Bool { state.withLock { $0 != nil } }

    /// Waits for the work and returns its result (again on every call).
    public func result() throws -> T {
        done.wait()
        done.signal()
        return try state.withLock { $0! }.get()
    }
}
