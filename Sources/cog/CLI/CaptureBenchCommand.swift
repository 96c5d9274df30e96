import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI

/// `cog capture-bench`: times capturing one step's changes with the overlay method and with a full-tree
/// snapshot comparison, on the same tree (bench/capture.sh drives it).
struct CaptureBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture-bench", abstract: "Time overlay capture against full-tree comparison (benchmark).",
        shouldDisplay: false)

    @Option(help: "Overlay lower dirs, top-most first.") var lower: [String] = []
    @Option(help: "A writable full copy of the same tree, for the comparison method.") var rootfs: String
    @Option(help: "Scratch and blob directory.") var work: String
    @Option(help: "The step's shell command.") var command =
        "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i > /opt/changed-$i; done"

    func run() throws {
        let environment = Environment.current
        let sandbox = Sandbox(mapping: environment.mapping, confinement: environment.confinement(network: .isolated))
        let runner = StepRunner(sandbox: sandbox, cacheRoot: work, host: environment.variables)
        let store = BlobStore(root: "\(work)/blobs")
        let step = StepRunner.Step(command: ["/bin/sh", "-c", command], environment: ["PATH=/usr/bin:/bin"])
        let silent: @Sendable (String) -> Void = { _ in }

        var start = Date()
        let outcome = try runner.run(step, lowers: lower, output: silent)
        let overlayLayer = try LayerCapture.capture(
            upper: outcome.upper, createdMountpoints: outcome.createdMountpoints, into: store, options: LayerOptions())
        let overlaySeconds = Date().timeIntervalSince(start)
        runner.discard(outcome)

        start = Date()
        let before = try TreeSnapshot.take(rootfs)
        var configuration = SandboxConfiguration(
            mountpoint: rootfs, lowers: [], upper: nil, work: nil, command: step.command)
        configuration.environment = step.environment
        let result = try sandbox.run(configuration, output: silent)
        guard result.status == 0 else { throw ValidationError("the step failed in the full tree (\(result.status))") }
        let after = try TreeSnapshot.take(rootfs)
        let snapshotLayer = try LayerWriter.write(
            entries: try after.changes(since: before), to: store, options: LayerOptions())
        let snapshotSeconds = Date().timeIntervalSince(start)

        print(
            String(
                format: "overlay capture:    %.3f s  (layer %@, %lld bytes)", overlaySeconds,
                overlayLayer.diffID.description, overlayLayer.uncompressedSize))
        print(
            String(
                format: "full-tree capture:  %.3f s  (layer %@, %lld bytes)", snapshotSeconds,
                snapshotLayer.diffID.description, snapshotLayer.uncompressedSize))
        print(String(format: "full-tree / overlay: %.1fx", snapshotSeconds / overlaySeconds))
    }
}
