import Foundation
import OCI
import Synchronization

/// One layer of the image a step runs on: its blob (the snapshot method extracts it; nil while a step's layer is
/// still being written, which only the overlay method does) and its unpacked directory (the overlay method
/// stacks it).
public struct StackedLayer: Sendable, Equatable {
    public let blob: String?
    public let directory: String

    public init(blob: String?, directory: String) {
        self.blob = blob
        self.directory = directory
    }
}

/// How a step's changes are found.
public enum CaptureMethod: String, Sendable {
    /// The step runs on an overlay of the layer dirs; its upper dir is the layer.
    case overlay
    /// The step runs in one writable copy of the tree; the layer is the difference of snapshots.
    case snapshot
}

/// What capturing a step gave.
public enum CaptureOutcome: Sendable {
    /// The step's layers, bottom first: one, or with a `LayerSplit` the step's changes first and then one layer
    /// per large package.
    case captured([LayerInProgress])
    /// The command failed (or was stopped); nothing was kept.
    case failed(status: Int32, timedOut: Bool)
}

/// Runs build steps and turns what each changed into a layer. The overlay and the snapshot method implement it;
/// a build chooses one at its start and never branches on which.
public protocol StepCapture: Sendable {
    var method: CaptureMethod { get }

    /// Runs `step` on top of `stack` (bottom first) and captures its changes as layers (one unless `split` finds
    /// large packages). Blocking.
    func capture(
        _ step: StepRunner.Step, on stack: [StackedLayer], split: LayerSplit, cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> CaptureOutcome

    /// Runs `step` on top of `stack`, throwing its changes away (reading facts from the image). Blocking.
    /// - Returns: the command's exit status.
    func inspect(
        _ step: StepRunner.Step, on stack: [StackedLayer], cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> Int32
}

/// A layer and the directory in the layer store that holds its files.
public struct StoredLayer: Sendable, Equatable {
    public let layer: WrittenLayer
    public let directory: String

    public init(layer: WrittenLayer, directory: String) {
        self.layer = layer
        self.directory = directory
    }
}

/// A step's layer on its way into the store. Its files are already in `directory`, so later steps can stack on
/// it while its blob is written on another thread; `finish` waits for the blob and moves the directory into the
/// layer store. Call `finish` (or `abandon`) when no step runs on top of it any more.
public final class LayerInProgress: Sendable {
    public let directory: String
    /// What the layer holds when it is one of several of a step (`numpy 2.1.3`); nil for a step's first layer.
    public let label: String?
    private let blob: BackgroundWork<WrittenLayer>
    private let store: @Sendable (WrittenLayer) throws -> String
    private let cleanUp: @Sendable () -> Void

    /// - Parameters:
    ///   - store: moves the files into the layer store once the blob is written; returns their new directory.
    ///   - cleanUp: removes what is left of the step's scratch space, after `store` or on failure.
    public init(
        directory: String, label: String? = nil, blob: BackgroundWork<WrittenLayer>,
        store: @escaping @Sendable (WrittenLayer) throws -> String,
        cleanUp: @escaping @Sendable () -> Void
    ) {
        self.directory = directory
        self.label = label
        self.blob = blob
        self.store = store
        self.cleanUp = cleanUp
    }

    /// A layer written and stored already.
    public convenience init(finished: StoredLayer, label: String? = nil) {
        self.init(
            directory: finished.directory, label: label, blob: BackgroundWork(finished: finished.layer),
            store: { _ in finished.directory }, cleanUp: {})
    }

    /// Waits for the blob only (it is in the blob store once this returns). Blocking.
    public func writtenLayer() throws -> WrittenLayer { try blob.result() }

    /// Waits for the blob, then stores the files. Blocking.
    public func finish() throws -> StoredLayer {
        defer { cleanUp() }
        let layer = try blob.result()
        return StoredLayer(layer: layer, directory: try store(layer))
    }

    /// Waits for the blob writer to stop and removes the step's files (the build failed before `finish`).
    public func abandon() {
        _ = try? blob.result()
        cleanUp()
    }
}

/// Runs an action once the last of `count` users is done with what it cleans up (the scratch dir several layers
/// of one step live in).
public final class SharedCleanup: Sendable {
    private let remaining: Mutex<Int>
    private let action: @Sendable () -> Void

    public init(count: Int, _ action: @escaping @Sendable () -> Void) {
        remaining = Mutex(count)
        self.action = action
    }

    /// One user is done; the last one runs the action.
    public func release() {
        if remaining.withLock({ value -> Bool in
            value -= 1
            return value == 0
        }) {
            action()
        }
    }
}
