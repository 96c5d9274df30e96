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

    init(reporter: BuildReporter) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in handle(reporter) }
            source.resume()
            sources.append(source)
        }
    }

    /// From here on an interruption stops the running step instead of exiting.
    var stepsRunning: Bool {
        get { lock.withLock { running } }
        set { lock.withLock { running = newValue } }
    }

    private func handle(_ reporter: BuildReporter) {
        let (stop, exitNow) = lock.withLock { () -> (Bool, Bool) in
            // The same Ctrl-C can arrive twice (from the terminal and forwarded by cog's first process).
            if let first { return (false, Date().timeIntervalSince(first) > 1) }
            first = Date()
            return (running, !running)
        }
        if exitNow {
            FileHandle.standardError.write(Data("\ninterrupted\n".utf8))
            _exit(130)
        }
        if stop {
            reporter.warning("interrupted: stopping the running step; the steps that finished stay cached (Ctrl-C again to quit at once)")
            flag.set()
        }
    }

    /// Restores the default handling (the build is over).
    func end() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
