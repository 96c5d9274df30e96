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
        _ step: StepRunner.Step, on stack: [StackedLayer], split: LayerSplit, cancel: CancelFlag,
        output: @escaping @Sendable (String) -> Void
    ) throws -> CaptureOutcome {
        let outcome = try runner.run(step, lowers: stack.reversed().map(\.directory), cancel: cancel, output: output)
        guard outcome.status == 0 else {
            runner.discard(outcome)
            return .failed(status: outcome.status, timedOut: outcome.timedOut)
        }
        let groups: [PackageGroup]
        do {
            try LayerCapture.clean(upper: outcome.upper, createdMountpoints: outcome.createdMountpoints)
            groups = try splitPackages(of: outcome, split: split)
        } catch {
            runner.discard(outcome)
            throw error
        }
        // The step's changes first (whiteouts and opaque directories act on the layers below), then a layer per
        // package; each written in turn on one thread, each usable as soon as its own blob is written.
        let directories =
            [(outcome.upper, nil as String?)]
            + groups.enumerated().map { ("\(outcome.scratch)/package-\($0)", $1.name) }
        let (blobs, options, mapOwner, layers, runner) = (blobs, options, mapOwner, layers, runner)
        let cleanup = SharedCleanup(count: directories.count) { runner.discard(outcome) }
        var previous: BackgroundWork<WrittenLayer>?
        var captured: [LayerInProgress] = []
        for (directory, label) in directories {
            let blob = BackgroundWork(after: previous) {
                try LayerCapture.write(upper: directory, into: blobs, options: options, mapOwner: mapOwner)
            }
            previous = blob
            captured.append(
                LayerInProgress(
                    directory: directory, label: label, blob: blob,
                    store: { layer in try layers.adopt(directory: directory, diffID: layer.diffID) },
                    cleanUp: { cleanup.release() }))
        }
        return .captured(captured)
    }

    /// Moves each large package's files out of the upper dir into a directory of its own, next to it.
    private func splitPackages(of outcome: StepRunner.Outcome, split: LayerSplit) throws -> [PackageGroup] {
        guard split.maximumPackageLayers > 0 else { return [] }
        var scanner = DirectoryScanner(root: outcome.upper)
        scanner.overlayWhiteouts = true
        scanner.includeXattrs = false
        let groups = PackageLayers.groups(entries: try scanner.scan(), root: outcome.upper, split: split)
        for (index, group) in groups.enumerated() {
            try PackageLayers.move(group, from: outcome.upper, to: "\(outcome.scratch)/package-\(index)")
        }
        PackageLayers.removeEmptied(by: groups, in: outcome.upper)
        return groups
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
