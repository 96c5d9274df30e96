import ArgumentParser
import CogEngine
import Foundation
import OCI
import Registry

/// `cog pull IMAGE`: fetches an image into the local cache, ready to run (and, with --oci-out, an OCI layout).
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Pull an image from a registry into the local cache.",
        discussion:
            "Each layer is unpacked as soon as it has arrived, and the image is named IMAGE in the local store, so that cog predict IMAGE, serve and run use it. Mirrors (COG_REGISTRY_MIRRORS) and credentials apply as for builds."
    )

    @Argument(help: "The image, e.g. python:3.11-slim or r8.im/user/model.") var image: String
    @Option(name: .customLong("oci-out"), help: "Also write the image as an OCI layout to this directory.") var ociOut:
        String?
    @Option(help: "Progress output: auto, tty, plain, json or quiet.") var progress = "auto"

    func run() async throws {
        // Rootless: layers are unpacked with their owners inside cog's user namespace, as a build's are.
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = BuildReporter(mode: BuildReporter.Mode(rawValue: progress) ?? .auto)
        let (image, ociOut) = (self.image, self.ociOut)
        try await runReportingErrors {
            let paths = try Environment.current.checkedPaths()
            if let ociOut { try OCILayout.checkOutput(ociOut) }
            let reference = try ImageReference(parsing: image)
            let environment = Environment.current
            // A cached blob found corrupt while the layout is written is removed; one more pull fetches it anew.
            for attempt in 1...2 {
                let start = Date()
                let (stored, unpacked) = try await ImagePull.pull(
                    reference, name: image, paths: paths, registry: environment.registry,
                    credentials: environment.dockerConfig, progress: reporter)
                reporter.info(
                    "pulled \(image) and unpacked \(unpacked) layer\(unpacked == 1 ? "" : "s") in \(String(format: "%.1f", Date().timeIntervalSince(start))) s"
                )
                do {
                    if let ociOut {
                        try await Blocking.run {
                            try OCILayout.writeOutput(to: ociOut) { layout in
                                try ImageWriter.add(
                                    stored, from: paths.blobs, to: layout, name: reference.tag ?? "latest",
                                    transfer: .copy)
                            }
                        }
                    }
                } catch OCIError.corruptBlob(let digest, let path, let found, true) where attempt == 1 {
                    reporter.warning(
                        "\(OCIError.corruptBlob(digest, path: path, found: found, removed: true)); pulling again")
                    continue
                }
                print("\(reference.registry)/\(reference.repository)@\(stored.descriptor.digest)")
                return
            }
        }
    }
}
