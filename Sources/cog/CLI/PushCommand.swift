import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry

/// `cog push`: builds, then pushes straight to the registry; or pushes an OCI layout built earlier.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Build and push an image to a registry, without Docker.",
        discussion:
            "The image name comes from the argument, else image: in cog.yaml. With --oci-layout DIR, pushes what `cog build --oci-out DIR` wrote, without building."
    )

    @Argument(help: "Where to push, e.g. r8.im/user/model or 127.0.0.1:5000/org/model:tag.")
    var image: String?
    @Option(name: .customLong("oci-layout"), help: "Push the image in this OCI layout instead of building.")
    var ociLayout: String?
    @OptionGroup var options: BuildOptions

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let reporter = options.reporter
        if let ociLayout {
            guard let image else {
                throw ValidationError(
                    "--oci-layout needs the image to push to, e.g. cog push --oci-layout out r8.im/user/model")
            }
            try await runReportingErrors {
                let layout = try OCILayout.open(ociLayout)
                let names = try layout.index().manifests.compactMap { $0.annotations?[Descriptor.refNameAnnotation] }
                let stored = try layout.image(named: names.count == 1 ? names[0] : BuildCommand.refName(image))
                try await push(stored, blobs: layout.blobs, to: image, reporter: reporter, mountSources: [:])
            }
            return
        }
        let (built, loaded, _) = try await options.build(reporter: reporter)
        guard let target = image ?? loaded.config.config.image else {
            printError(
                "error: to push images, set 'image' in cog.yaml or pass an image name, e.g. cog push r8.im/your-username/your-model"
            )
            throw ExitCode(1)
        }
        let paths = Environment.current.paths
        try await runReportingErrors {
            try LocalImages(paths: paths).save(built.image, name: target)
            let sources = Dictionary(
                built.baseImage.manifest.layers.map { ($0.digest, built.baseReference) },
                uniquingKeysWith: { a, _ in a })
            try await push(built.image, blobs: paths.blobs, to: target, reporter: reporter, mountSources: sources)
        }
    }

    private func push(
        _ stored: StoredImage, blobs: BlobStore, to target: String, reporter: BuildReporter,
        mountSources: [Digest: ImageReference]
    ) async throws {
        let reference = try ImageReference(parsing: target)
        reporter.info("pushing \(reference)")
        let environment = Environment.current
        let transfer = ImageTransfer(
            settings: environment.registry, credentials: environment.dockerConfig, progress: reporter)
        let digest = try await transfer.push(stored, from: blobs, to: reference, mountSources: mountSources)
        reporter.info("pushed \(reference.registry)/\(reference.repository)@\(digest)")
        if reference.registry == "r8.im" { reporter.info("https://replicate.com/\(reference.repository)") }
        print("\(reference.registry)/\(reference.repository)@\(digest)")
    }
}
