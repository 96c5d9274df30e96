import Foundation
import Layers
import OCI

/// The capture method for hosts where overlayfs cannot be mounted: one writable copy of the image's tree,
/// kept up to date layer by layer, in which steps run directly; a step's layer is the difference between
/// snapshots taken before and after it (`TreeSnapshot`). It costs a full copy of the base per build, which the
/// overlay method avoids, so it is only the fallback (or forced with `COG_CAPTURE=snapshot`).
final class FlatTree {
    let path: String
    private let blobs: BlobStore
    private var applied = 0

    init(scratch: String, blobs: BlobStore) throws {
        path = "\(scratch)/flat-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        self.blobs = blobs
        try FileSystem.makeDirectory(path)
    }

    deinit { FileSystem.remove(path) }

    /// Applies the layers it has not seen yet (whiteouts deleting what they hide).
    func catchUp(with layers: [BuildState.Layer]) throws {
        for layer in layers[applied...] {
            var extractor = LayerExtractor(target: path)
            extractor.skipDevices = true // steps run with a minimal /dev of their own
            try extractor.extract(layerPath: blobs.path(for: layer.descriptor.digest))
        }
        applied = layers.count
    }

    /// Runs a step in the tree and writes the layer of what it changed.
    func run(_ step: StepRunner.Step, layers: [BuildState.Layer], runner: StepRunner, options: LayerOptions,
             mapOwner: ((Int, Int) -> (uid: Int, gid: Int))?, cancel: CancelFlag,
             output: @escaping @Sendable (String) -> Void) throws -> (status: Int32, layer: WrittenLayer?) {
        try catchUp(with: layers)
        let before = try TreeSnapshot.take(path)
        let outcome = try runner.runInPlace(step, root: path, cancel: cancel, output: output)
        guard outcome.status == 0 else { return (outcome.status, nil) }
        LayerCapture.removeCreated(outcome.createdMountpoints, in: path)
        let entries = try TreeSnapshot.take(path).changes(since: before, mapOwner: mapOwner)
        let layer = try LayerWriter.write(entries: entries, to: blobs, options: options)
        applied = layers.count + 1 // the tree already holds the step's changes
        return (0, layer)
    }

    /// Whether overlayfs works here: a trivial step on one lower dir.
    static func overlayWorks(runner: StepRunner, lower: String) -> Bool {
        guard let outcome = try? runner.run(.init(command: ["/bin/true"], environment: []), lowers: [lower], output: { _ in }) else { return false }
        runner.discard(outcome)
        return outcome.status == 0
    }
}
