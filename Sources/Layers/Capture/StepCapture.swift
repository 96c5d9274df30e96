import Foundation
import OCI

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
    case captured(LayerInProgress)
    /// The command failed (or was stopped); nothing was kept.
    case failed(status: Int32, timedOut: Bool)
}

/// Runs build steps and turns what each changed into a layer. The overlay and the snapshot method implement it;
/// a build chooses one at its start and never branches on which.
public protocol StepCapture: Sendable {
    var method: CaptureMethod { get }

    /// Runs `step` on top of `stack` (bottom first) and captures its changes as a layer. Blocking.
    func capture(
        _ step: StepRunner.Step, on stack: [StackedLayer], cancel: CancelFlag,
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
    private let blob: BackgroundWork<WrittenLayer>
    private let store: @Sendable (WrittenLayer) throws -> String
    private let cleanUp: @Sendable () -> Void

    /// - Parameters:
    ///   - store: moves the files into the layer store once the blob is written; returns their new directory.
    ///   - cleanUp: removes what is left of the step's scratch space, after `store` or on failure.
    public init(
        directory: String, blob: BackgroundWork<WrittenLayer>,
        store: @escaping @Sendable (WrittenLayer) throws -> String,
        cleanUp: @escaping @Sendable () -> Void
    ) {
        self.directory = directory
        self.blob = blob
        self.store = store
        self.cleanUp = cleanUp
    }

    /// A layer written and stored already.
    public convenience init(finished: StoredLayer) {
        self.init(
            directory: finished.directory, blob: BackgroundWork(finished: finished.layer),
            store: { _ in finished.directory }, cleanUp: {})
    }

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
