import Foundation
import Layers

/// Ctrl-C (or SIGTERM) during a build. While steps run, the first one stops the running step, keeps the steps that
/// finished in the cache and ends the build with exit code 130; a second one, a second or more later, exits at
/// once. Before the steps (pulling the base) there is nothing to keep, so the first one exits at once.
final class Interruption: @unchecked Sendable {
    let flag = CancelFlag()
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var first: Date?
    private var running = false
    private var previous: [(Int32, sighandler_t?)] = []
    /// The signal that interrupted the build.
    private(set) var signalNumber: Int32 = SIGINT

    init(reporter: BuildReporter) {
        for number in [SIGINT, SIGTERM] {
            previous.append((number, signal(number, SIG_IGN)))
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in handle(number, reporter) }
            source.resume()
            sources.append(source)
        }
    }

    /// From here on an interruption stops the running step instead of exiting.
    var stepsRunning: Bool {
        get { lock.withLock { running } }
        set { lock.withLock { running = newValue } }
    }

    private func handle(_ number: Int32, _ reporter: BuildReporter) {
        let (stop, exitNow) = lock.withLock { () -> (Bool, Bool) in
            // The same Ctrl-C can arrive twice (from the terminal and forwarded by cog's first process).
            if let first { return (false, Date().timeIntervalSince(first) > 1) }
            first = Date()
            signalNumber = number
            return (running, !running)
        }
        if exitNow {
            FileHandle.standardError.write(Data("\ninterrupted\n".utf8))
            _exit(128 + number)
        }
        if stop {
            reporter.warning("interrupted: stopping the running step; the steps that finished stay cached (Ctrl-C again to quit at once)")
            flag.set()
        }
    }

    /// Restores the handling there was before (the build is over).
    func end() {
        for source in sources { source.cancel() }
        for (number, handler) in previous { signal(number, handler) }
    }
}
