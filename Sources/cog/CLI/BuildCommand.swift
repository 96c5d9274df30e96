import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI

/// `cog build`: builds the image without Docker and writes it where asked.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from cog.yaml, without Docker.",
        discussion:
            "The image goes to the local image store under its name (-t, else image: in cog.yaml, else cog-<folder>), and also to --oci-out and --docker-archive when given."
    )

    @OptionGroup var options: BuildOptions
    @Option(name: .shortAndLong, help: "Name of the image (in the local store, the OCI layout and the archive).")
    var tag: String?
    @Option(name: .customLong("oci-out"), help: "Also write the image as an OCI image layout to this directory.")
    var ociOut: String?
    @Option(
        name: .customLong("docker-archive"), help: "Also write a docker-archive tar (for docker load / podman load).")
    var dockerArchive: String?

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = options.reporter
        let (built, loaded, paths) = try await options.build(reporter: reporter)
        let name = BuildOptions.imageName(tag: tag, loaded: loaded)
        try await runReportingErrors {
            try LocalImages(paths: paths).save(built.image, name: name)
            if let ociOut {
                try OCILayout.writeAtomically(to: ociOut) { layout in
                    try ImageWriter.add(
                        built.image, from: paths.blobs, to: layout, name: Self.refName(name), transfer: .link)
                }
                reporter.info("wrote OCI layout \(ociOut) (\(Self.refName(name)))")
            }
            if let dockerArchive {
                try DockerArchiveWriter.write(
                    image: built.image, blobs: paths.blobs, tags: [name.contains(":") ? name : "\(name):latest"],
                    to: dockerArchive)
                reporter.info("wrote docker archive \(dockerArchive)")
            }
        }
        reporter.info("built \(name) \(built.image.descriptor.digest)")
        print(built.image.descriptor.digest)
    }

    /// The tag part of a name, used as `org.opencontainers.image.ref.name` in a layout.
    static func refName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") else { return "latest" }
        return String(name[name.index(after: colon)...])
    }
}
