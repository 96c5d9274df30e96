import Foundation
import Layers
import OCI
import Registry
import Synchronization

/// The base image as the build found it.
struct BaseImage {
    let reference: ImageReference
    let image: StoredImage
}

extension BuildSession {
    /// Pulls the base image, unpacking each layer as soon as it has arrived, and starts the image state from it:
    /// its layers (OCI media types, digests kept), environment, working directory and history.
    func pullBase() async throws -> BaseImage {
        progress.step(1, of: total, "FROM \(plan.baseImage)", cached: false)
        do {
            return try await pullBaseOnce()
        } catch let error as OCIError {
            // A cached base layer damaged since it was pulled was removed while unpacking: fetch it again.
            guard case .corruptBlob = error else { throw error }
            progress.warning("\(error); pulling again")
            return try await pullBaseOnce()
        }
    }

    private func pullBaseOnce() async throws -> BaseImage {
        let reference = try ImageReference(parsing: plan.baseImage)
        let paths = settings.paths
        let unpacker = LayerUnpacker(store: paths.layers, blobs: paths.blobs)
        let start = Date()
        let fresh = FreshLayers()
        let image: StoredImage
        do {
            let transfer = ImageTransfer(
                settings: settings.registry, credentials: settings.credentials, progress: progress)
            image = try await transfer.pull(reference, into: paths.blobs) { layer, diffID in
                if !paths.layers.contains(diffID) { fresh.insert(diffID) }
                unpacker.start(blob: layer.digest, diffID: diffID)
            }
        } catch {
            unpacker.cancel()  // layers not started yet are skipped; those started finish, so none is cut off
            try? await Blocking.run { unpacker.wait() }
            throw error
        }
        let layers = zip(image.manifest.layers, image.configuration.rootfs.diffIDs).map { ($0.0.digest, $0.1) }
        let directories = try await Blocking.run { try unpacker.directories(for: layers) }
        state = try initialState(of: image, reference: reference, directories: directories)
        for layer in image.manifest.layers { layerWritten(layer, from: reference) }
        if fresh.count > 0 {
            progress.info(
                "   pulled and unpacked \(fresh.count) base layer\(fresh.count == 1 ? "" : "s") in \(Self.seconds(since: start))"
            )
        }
        let confinement = runner.sandbox.confinement
        if confinement.chrootOnly && geteuid() != 0 { throw BuildError.noIsolationPossible }
        progress.info(
            "   running steps \(settings.mapping)\(settings.mappingNote.map { ", because: \($0)" } ?? ""); \(confinement)"
        )
        if !confinement.shortfalls.isEmpty {
            progress.warning("weaker confinement: " + confinement.shortfalls.joined(separator: "; "))
        }
        return BaseImage(reference: reference, image: image)
    }

    func initialState(of base: StoredImage, reference: ImageReference, directories: [String]) throws
        -> ImageState
    {
        var history = base.configuration.history ?? []
        // Keep history aligned with the layers (image-spec config.md): a base without it gets one entry per layer.
        let recorded = history.filter { $0.emptyLayer != true }.count
        if recorded < base.manifest.layers.count {
            history += (recorded..<base.manifest.layers.count).map { _ in .init(createdBy: "layer of \(reference)") }
        }
        var state = ImageState(
            workingDirectory: base.configuration.config?.workingDir ?? "/", history: history,
            chainKey: try StepCache.key(parent: base.descriptor.digest, material: settings.layerMaterial))
        for (layer, (diffID, directory)) in zip(
            base.manifest.layers, zip(base.configuration.rootfs.diffIDs, directories))
        {
            var oci = layer
            oci.mediaType = layer.mediaType.ociEquivalent
            state.layers.append(.written(descriptor: oci, diffID: diffID, directory: directory))
        }
        for item in base.configuration.config?.env ?? [] {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let name = parts.first, !name.isEmpty else { continue }
            state.set(name, parts.count > 1 ? parts[1] : "")
        }
        return state
    }
}

/// The base layers this build had to unpack (not in the layer store before), counted as they arrive.
private final class FreshLayers: Sendable {
    private let items = Mutex<Set<Digest>>([])
    func insert(_ diffID: Digest) { items.withLock { _ = $0.insert(diffID) } }
    var count: Int { items.withLock { $0.count } }
}
