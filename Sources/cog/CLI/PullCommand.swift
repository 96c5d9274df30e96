import ArgumentParser
import CogEngine
import Foundation
import OCI
import Registry

/// `cog pull IMAGE`: fetches an image into the local cache (and, with --oci-out, an OCI layout).
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Pull an image from a registry into the local cache.",
        discussion: "Mirrors (COG_REGISTRY_MIRRORS) and credentials apply as for builds.")

    @Argument(help: "The image, e.g. python:3.11-slim or r8.im/user/model.") var image: String
    @Option(name: .customLong("oci-out"), help: "Also write the image as an OCI layout to this directory.") var ociOut:
        String?
    @Option(help: "Progress output: auto, tty, plain, json or quiet.") var progress = "auto"

    func run() async throws {
        let reporter = BuildReporter(mode: BuildReporter.Mode(rawValue: progress) ?? .auto)
        let paths = Environment.current.paths
        try await runReportingErrors {
            let reference = try ImageReference(parsing: image)
            let environment = Environment.current
            let transfer = ImageTransfer(
                settings: environment.registry, credentials: environment.dockerConfig, progress: reporter)
            let stored = try await transfer.pull(reference, into: paths.blobs)
            if let ociOut {
                try OCILayout.writeAtomically(to: ociOut) { layout in
                    try ImageWriter.add(
                        stored, from: paths.blobs, to: layout, name: reference.tag ?? "latest", transfer: .link)
                }
            }
            print("\(reference.registry)/\(reference.repository)@\(stored.descriptor.digest)")
        }
    }
}
