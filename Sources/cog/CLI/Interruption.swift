import CogEngine
import Foundation
import Layers
import Synchronization

/// Ctrl-C (or SIGTERM) during a build. While steps run, the first one stops the running step, keeps the steps that
/// finished in the cache and ends the build with exit code 130; a second one, a second or more later, exits at
/// once. Before the steps (pulling the base) there is nothing to keep, so the first one exits at once.
final class Interruption: Sendable {
    let flag = CancelFlag()
    private struct State {
        var first: Date?
        var running = false
        var signalNumber: Int32 = SIGINT
    }
    private let state = Mutex(State())
    /// Signal sources and the handlers there were before; set up once in `init`, torn down in `end`.
    private struct Installed: @unchecked Sendable {
        var sources: [DispatchSourceSignal] = []
        var previous: [(Int32, sighandler_t?)] = []
    }
    private let installed = Mutex(Installed())

    init(reporter: BuildReporter) {
        for number in [SIGINT, SIGTERM] {
            let previous = signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in handle(number, reporter) }
            source.resume()
            installed.withLock {
                $0.previous.append((number, previous))
                $0.sources.append(source)
            }
        }
    }

    /// The signal that interrupted the build.
    var signalNumber: Int32 { state.withLock { $0.signalNumber } }

    /// From here on an interruption stops the running step instead of exiting.
    var stepsRunning: Bool {
        get { state.withLock { $0.running } }
        set { state.withLock { $0.running = newValue } }
    }

    private func handle(_ number: Int32, _ reporter: BuildReporter) {
        let (stop, exitNow) = state.withLock { state -> (Bool, Bool) in
            // The same Ctrl-C can arrive twice (from the terminal and forwarded by cog's first process).
            if let first = state.first { return (false, Date().timeIntervalSince(first) > 1) }
            state.first = Date()
            state.signalNumber = number
            return (state.running, !state.running)
        }
        if exitNow {
            FileHandle.standardError.write(Data("\ninterrupted\n".utf8))
            _exit(128 + number)
        }
        if stop {
            reporter.warning(
                "interrupted: stopping the running step; the steps that finished stay cached (Ctrl-C again to quit at once)"
            )
            flag.set()
        }
    }

    /// Restores the handling there was before (the build is over).
    func end() {
        installed.withLock { installed in
            for source in installed.sources { source.cancel() }
            for (number, handler) in installed.previous { signal(number, handler) }
        }
    }
}
