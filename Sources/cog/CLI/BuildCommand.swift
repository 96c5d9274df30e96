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
        try await runReportingErrors { try Self.checkOutputs(ociOut: ociOut, dockerArchive: dockerArchive) }
        // A cached blob found corrupt while the outputs are written is removed; one more build makes it anew.
        for attempt in 1...2 {
            let (built, loaded, paths) = try await options.build(reporter: reporter)
            let name = BuildOptions.imageName(tag: tag, loaded: loaded)
            let (ociOut, dockerArchive) = (self.ociOut, self.dockerArchive)
            let written: Result<Void, Error>
            do {
                try await Blocking.run {
                    try Self.writeOutputs(
                        built.image, name: name, paths: paths, ociOut: ociOut, dockerArchive: dockerArchive)
                }
                written = .success(())
            } catch {
                written = .failure(error)
            }
            if attempt == 1, case .failure(let error) = written,
                case .corruptBlob(let digest, _, _, true)? = error as? OCIError
            {
                LocalImages(paths: paths).discard(digest)
                reporter.warning("\(error); building again")
                continue
            }
            try await runReportingErrors { try written.get() }
            if let ociOut { reporter.info("wrote OCI layout \(ociOut) (\(Self.refName(name)))") }
            if let dockerArchive { reporter.info("wrote docker archive \(dockerArchive)") }
            reporter.info("Image built as \(name)")
            print(built.image.descriptor.digest)
            return
        }
    }

    /// Refuses, before building, outputs that would replace what a person keeps: `--oci-out` must be new, empty
    /// or an OCI layout; `--docker-archive` a new file or a tar (an archive written before).
    static func checkOutputs(ociOut: String?, dockerArchive: String?) throws {
        if let ociOut { try OCILayout.checkOutput(ociOut) }
        guard let dockerArchive else { return }
        var st = stat()
        guard stat(dockerArchive, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw CommandError.refused(path: dockerArchive, reason: "it is not a file")
        }
        var magic = [UInt8](repeating: 0, count: 5)
        let file = try? FileStream.openForReading(dockerArchive)
        let isTar = (try? file?.seek(to: 257)).map { _ in
            (try? magic.withUnsafeMutableBytes { try file?.read(into: $0) }) == 5 && magic == Array("ustar".utf8)
        }
        guard isTar == true else {
            throw CommandError.refused(path: dockerArchive, reason: "the file exists and is not a tar archive")
        }
    }

    /// The local store entry, and the outputs asked for (blobs copied, each checked against its digest).
    static func writeOutputs(
        _ image: StoredImage, name: String, paths: CogPaths, ociOut: String?, dockerArchive: String?
    ) throws {
        try LocalImages(paths: paths).save(image, name: name)
        if let ociOut {
            try OCILayout.writeOutput(to: ociOut) { layout in
                try ImageWriter.add(image, from: paths.blobs, to: layout, name: refName(name), transfer: .copy)
            }
        }
        if let dockerArchive {
            try DockerArchiveWriter.write(
                image: image, blobs: paths.blobs, tags: [name.contains(":") ? name : "\(name):latest"],
                to: dockerArchive)
        }
    }

    /// The tag part of a name, used as `org.opencontainers.image.ref.name` in a layout.
    static func refName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") else { return "latest" }
        return String(name[name.index(after: colon)...])
    }
}

/// An output file the build will not replace.
enum CommandError: Error, CustomStringConvertible {
    case refused(path: String, reason: String)
    /// A setting from the environment that cannot be used, with the reason and the fix.
    case invalidSetting(String)

    var description: String {
        switch self {
        case .refused(let path, let reason):
            "refusing to write a docker archive to \(path): \(reason); give a new file name"
        case .invalidSetting(let message): message
        }
    }
}
