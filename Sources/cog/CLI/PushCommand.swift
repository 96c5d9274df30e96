import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI
import Registry
import Synchronization

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
        // The push starts with the build: each layer is uploaded as soon as it is written. A cached blob found
        // corrupt before it is sent is removed; one more build makes it anew.
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        try await Self.verifyBundle(options: options, positional: image, reporter: reporter)
        for attempt in 1...2 {
            let streaming = StreamingPush()
            let built: BuiltImage
            let target: String
            do {
                (built, _, _) = try await options.build(reporter: reporter) { loaded in
                    let bundle = try Self.bundle(for: loaded, positional: image)
                    guard let name = bundle?.imageReference ?? image ?? loaded.config.config.image else {
                        printError(
                            "error: to push images, set 'image' in cog.yaml or pass an image name, e.g. cog push r8.im/your-username/your-model"
                        )
                        throw ExitCode(1)
                    }
                    let reference = try ImageReference(parsing: name)
                    let session = try PushSession(
                        transfer: Self.transfer(reporter), to: reference, from: paths.blobs, locations: Self.locations)
                    streaming.start(session, name: name, bundle: bundle)
                    if let bundle {
                        reporter.info("\(bundle.weightCount) managed weight(s)")
                        reporter.info("Pushing to \(bundle.model)...")
                    }
                    reporter.info("pushing \(reference) while building")
                    return { descriptor, source in session.offer(descriptor, from: source) }
                }
                target = try streaming.name()
            } catch {
                // An upload that found a cached blob corrupt removed it, so the build could not finish the image.
                if attempt == 1, let corrupt = await streaming.corruptBlobFound(),
                    case .corruptBlob(let digest, _, _, true) = corrupt
                {
                    LocalImages(paths: paths).discard(digest)
                    reporter.warning("\(corrupt); building again")
                    continue
                }
                streaming.cancel()
                throw error
            }
            let retried = { (error: Error) in attempt == 1 && Self.isRemovedCorruptBlob(error) }
            do {
                try await runReportingErrors(passing: retried) {
                    // The push first: a blob found corrupt on its way out is removed, and the retry rebuilds it.
                    let reference = try ImageReference(parsing: target)
                    let report: PushReport
                    do {
                        report = try await streaming.finish(built.image)
                    } catch {
                        throw Replicate.explain(error, pushing: reference)
                    }
                    try LocalImages(paths: paths).save(built.image, name: target)
                    if let bundle = streaming.bundle {
                        try await Self.finish(bundle, image: built.image, report: report, reporter: reporter)
                    } else {
                        Self.announce(report, reference: reference, reporter: reporter)
                    }
                }
                return
            } catch OCIError.corruptBlob(let digest, let path, let found, true) {
                LocalImages(paths: paths).discard(digest)
                reporter.warning(
                    "\(OCIError.corruptBlob(digest, path: path, found: found, removed: true)); building again")
            }
        }
    }

    static func isRemovedCorruptBlob(_ error: Error) -> Bool {
        if case .corruptBlob(_, _, _, true)? = error as? OCIError { return true }
        return false
    }

    private func push(
        _ stored: StoredImage, blobs: BlobStore, to target: String, reporter: BuildReporter,
        mountSources: [Digest: ImageReference]
    ) async throws {
        let reference = try ImageReference(parsing: target)
        reporter.info("pushing \(reference)")
        let report: PushReport
        do {
            report = try await Self.transfer(reporter).push(
                stored, from: blobs, to: reference, mountSources: mountSources, locations: Self.locations)
        } catch {
            throw Replicate.explain(error, pushing: reference)
        }
        Self.announce(report, reference: reference, reporter: reporter)
    }

    /// Where cog pushed blobs before (`<cache>/locations`), for mounts between repositories.
    static var locations: BlobLocations { BlobLocations(directory: "\(Environment.current.paths.root)/locations") }

    static func transfer(_ reporter: BuildReporter) -> ImageTransfer {
        let environment = Environment.current
        return ImageTransfer(settings: environment.registry, credentials: environment.dockerConfig, progress: reporter)
    }

    /// What the registry did with every blob, then the pushed reference on standard output.
    static func announce(_ report: PushReport, reference: ImageReference, reporter: BuildReporter) {
        reporter.pushReport(report)
        reporter.info("pushed \(reference.registry)/\(reference.repository)@\(report.digest)")
        if let page = Replicate.modelPage(reference) { reporter.info("\nRun your model on Replicate:\n    \(page)") }
        print("\(reference.registry)/\(reference.repository)@\(report.digest)")
    }
}

/// The push session a build feeds, created once the config names the target.
private final class StreamingPush: Sendable {
    private let state = Mutex<(session: PushSession, name: String, bundle: WeightBundle?)?>(nil)

    func start(_ session: PushSession, name: String, bundle: WeightBundle?) {
        state.withLock { $0 = (session, name, bundle) }
    }

    /// The model bundle the image goes into, when the project names a model.
    var bundle: WeightBundle? { state.withLock { $0?.bundle } }

    func name() throws -> String {
        guard let name = state.withLock({ $0?.name }) else { throw ExitCode(1) }
        return name
    }

    func cancel() { state.withLock { $0 }?.session.cancel() }

    func corruptBlobFound() async -> OCIError? { await state.withLock { $0 }?.session.corruptBlobFound() }

    func finish(_ image: StoredImage) async throws -> PushReport {
        guard let session = state.withLock({ $0?.session }) else { throw ExitCode(1) }
        do {
            return try await session.finish(image)
        } catch {
            session.cancel()
            throw error
        }
    }
}
