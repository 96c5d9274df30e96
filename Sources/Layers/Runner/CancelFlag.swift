import CSupport
import Foundation
import Synchronization

/// A flag another thread sets to stop a running step (Ctrl-C). Waits can watch `descriptor`, which becomes
/// readable when the flag is set.
public final class CancelFlag: Sendable {
    private let state = Mutex(false)
    /// An eventfd written once when the flag is set; -1 when the kernel gave none (waits then poll the flag).
    let descriptor: Int32

    public init() { descriptor = cog_eventfd() }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public var isSet: Bool { state.withLock { $0 } }

    public func set() {
        let first = state.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        if first, descriptor >= 0 {
            var one: UInt64 = 1
            _ = write(descriptor, &one, 8)
        }
    }
}
