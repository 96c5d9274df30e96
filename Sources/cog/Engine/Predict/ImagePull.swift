import Foundation
import Layers
import OCI
import Registry
import Synchronization

/// `cog pull`: an image fetched so that it runs (`cog predict NAME`, `serve`, `run`): its blobs in the content
/// store, each layer unpacked into the layer store as soon as its blob has arrived, while the others still
/// download (as a build's base is), and the image named in the local image store.
public enum ImagePull {
    /// Pulls `reference` and saves it in the local store as `name`.
    /// - Returns: the image, and how many layers had to be unpacked (those not in the layer store before).
    /// - Throws: `RegistryError` for the transfer, `LayersError` for a layer that does not unpack.
    public static func pull(
        _ reference: ImageReference, name: String, paths: CogPaths, registry: RegistrySettings,
        credentials: DockerConfig, progress: TransferProgress
    ) async throws -> (image: StoredImage, unpacked: Int) {
        let unpacker = LayerUnpacker(store: paths.layers, blobs: paths.blobs)
        let fresh = Counter()
        let image: StoredImage
        do {
            let transfer = ImageTransfer(settings: registry, credentials: credentials, progress: progress)
            image = try await transfer.pull(reference, into: paths.blobs) { layer, diffID in
                if !paths.layers.contains(diffID) { fresh.add() }
                unpacker.start(blob: layer.digest, diffID: diffID)
            }
        } catch {
            unpacker.cancel()  // as a build's base: layers started finish, so none is cut off
            try? await Blocking.run { unpacker.wait() }
            throw error
        }
        let layers = zip(image.manifest.layers, image.configuration.rootfs.diffIDs).map { ($0.0.digest, $0.1) }
        _ = try await Blocking.run { try unpacker.directories(for: layers) }
        try LocalImages(paths: paths).save(image, name: name)
        return (image, fresh.value)
    }

    private final class Counter: Sendable {
        private let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }
}
