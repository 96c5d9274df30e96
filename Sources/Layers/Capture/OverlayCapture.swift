import Foundation
import OCI

/// The overlay method: the step runs on an overlay of the layer dirs with a fresh upper dir, which holds exactly
/// what it changed; the upper dir is written as the layer on another thread and becomes the layer's dir.
public struct OverlayCapture: StepCapture {
    public let runner: StepRunner
    public let blobs: BlobStore
    public let layers: LayerStore
    public let options: LayerOptions
    /// Maps owners on disk to owners in the layer (single-mapping rootless builds: the caller becomes root).
    public let mapOwner: (@Sendable (Int, Int) -> (uid: Int, gid: Int))?

    public var method: CaptureMethod { .overlay }

    public init(
        runner: StepRunner, blobs: BlobStore, layers: LayerStore, options: LayerOptions,
        mapOwner: (@Sendable (Int, Int) -> (uid: Int, gid: Int))?
    ) {
        self.runner = runner
        self.blobs = blobs
        self.layers = layers
        self.options = options
        self.mapOwner = mapOwner
    }

    public func capture(
        _ step: StepRunner.Step, on stack: [StackedLayer], cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> CaptureOutcome {
        let outcome = try runner.run(step, lowers: stack.reversed().map(\.directory), cancel: cancel, output: output)
        guard outcome.status == 0 else {
            runner.discard(outcome)
            return .failed(status: outcome.status, timedOut: outcome.timedOut)
        }
        do { try LayerCapture.clean(upper: outcome.upper, createdMountpoints: outcome.createdMountpoints) } catch {
            runner.discard(outcome)
            throw error
        }
        let (upper, blobs, options, mapOwner, layers, runner) = (
            outcome.upper, blobs, options, mapOwner, layers, runner
        )
        let blob = BackgroundWork {
            try LayerCapture.write(upper: upper, into: blobs, options: options, mapOwner: mapOwner)
        }
        return .captured(
            LayerInProgress(
                directory: upper, blob: blob,
                store: { layer in try layers.adopt(directory: upper, diffID: layer.diffID) },
                cleanUp: { runner.discard(outcome) }))
    }

    public func inspect(
        _ step: StepRunner.Step, on stack: [StackedLayer], cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> Int32 {
        let outcome = try runner.run(step, lowers: stack.reversed().map(\.directory), cancel: cancel, output: output)
        runner.discard(outcome)
        return outcome.status
    }

    /// Whether overlayfs can be mounted here: a trivial step on one lower dir.
    public static func works(runner: StepRunner, lower: String) -> Bool {
        guard
            let outcome = try? runner.run(
                .init(command: ["/bin/true"], environment: []), lowers: [lower], output: { _ in })
        else {
            return false
        }
        runner.discard(outcome)
        return outcome.status == 0
    }
}
