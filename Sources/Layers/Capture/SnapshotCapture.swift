import Foundation
import OCI
import Synchronization

/// The method for hosts where overlayfs cannot be mounted: one writable copy of the image's tree, kept up to
/// date layer by layer, in which steps run directly; a step's layer is the difference between snapshots taken
/// before and after it (`TreeSnapshot`). It costs a full copy of the base per build, which the overlay method
/// avoids, so it is only the fallback (or forced with `COG_CAPTURE=snapshot`).
public final class SnapshotCapture: StepCapture {
    public let runner: StepRunner
    public let blobs: BlobStore
    public let layers: LayerStore
    public let options: LayerOptions
    public let mapOwner: (@Sendable (Int, Int) -> (uid: Int, gid: Int))?
    /// The writable tree.
    public let path: String
    /// How many layers of the stack the tree holds.
    private let applied = Mutex(0)

    public var method: CaptureMethod { .snapshot }

    public init(
        runner: StepRunner, blobs: BlobStore, layers: LayerStore, options: LayerOptions,
        mapOwner: (@Sendable (Int, Int) -> (uid: Int, gid: Int))?
    ) throws {
        self.runner = runner
        self.blobs = blobs
        self.layers = layers
        self.options = options
        self.mapOwner = mapOwner
        path = "\(runner.cacheRoot)/scratch/flat-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectory(path)
    }

    deinit { FileSystem.remove(path) }

    public func capture(
        _ step: StepRunner.Step, on stack: [StackedLayer], split: LayerSplit, cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> CaptureOutcome {
        try catchUp(with: stack)
        let before = try TreeSnapshot.take(path)
        let outcome = try runner.runInPlace(step, root: path, cancel: cancel, output: output)
        guard outcome.status == 0 else { return .failed(status: outcome.status, timedOut: outcome.timedOut) }
        LayerCapture.removeCreated(outcome.createdMountpoints, in: path)
        let entries = try TreeSnapshot.take(path).changes(
            since: before, mapOwner: mapOwner, ignoringChangeTimeOf: Set(outcome.touchedPaths.map { BytePath($0) }))
        let groups = PackageLayers.groups(entries: entries, root: path, split: split)
        let (rest, packages) = PackageLayers.partition(entries, groups: groups)
        var captured: [LayerInProgress] = []
        for (entries, label) in [(rest, nil as String?)] + zip(packages, groups.map { $0.name as String? }) {
            let layer = try LayerWriter.write(entries: entries, to: blobs, options: options)
            let directory = try layers.unpack(blob: blobs.path(for: layer.descriptor.digest), diffID: layer.diffID)
            captured.append(LayerInProgress(finished: StoredLayer(layer: layer, directory: directory), label: label))
        }
        applied.withLock { $0 = stack.count + captured.count }  // the tree already holds the step's changes
        return .captured(captured)
    }

    public func inspect(
        _ step: StepRunner.Step, on stack: [StackedLayer], cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> Int32 {
        try catchUp(with: stack)
        return try runner.runInPlace(step, root: path, cancel: cancel, output: output).status
    }

    /// Applies the layers the tree does not hold yet (whiteouts deleting what they hide).
    private func catchUp(with stack: [StackedLayer]) throws {
        let start = applied.withLock { $0 }
        guard start < stack.count else { return }
        for layer in stack[start...] {
            // Every layer of a snapshot build is written when its step ends, so each has its blob.
            guard let blob = layer.blob else { throw LayersError.notUnpacked(directory: layer.directory) }
            var extractor = LayerExtractor(target: path)
            extractor.skipDevices = true  // steps run with a minimal /dev of their own
            try extractor.extract(layerPath: blob)
        }
        applied.withLock { $0 = stack.count }
    }
}
