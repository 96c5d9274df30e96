import Foundation
import OCI
import Synchronization

/// Unpacks an image's layers into the layer store as their blobs arrive, several at once: each layer has a dir
/// of its own (they are stacked only when mounted), so order does not matter. A pull hands each layer over as
/// soon as it is downloaded, which hides the unpacking of a multi-layer base behind the download of the rest.
public final class LayerUnpacker: Sendable {
    private let store: LayerStore
    private let blobs: BlobStore
    private let slots: DispatchSemaphore
    private let group = DispatchGroup()
    private struct State {
        var results: [Digest: Result<String, Error>] = [:]
        var started: Set<Digest> = []
        var cancelled = false
    }
    private let state = Mutex(State())

    public init(store: LayerStore, blobs: BlobStore, width: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.store = store
        self.blobs = blobs
        slots = DispatchSemaphore(value: max(1, width))
    }

    /// Starts unpacking the layer `blob` (whose uncompressed digest is `diffID`) unless it was started before.
    public func start(blob: Digest, diffID: Digest) {
        guard state.withLock({ $0.started.insert(diffID).inserted }) else { return }
        group.enter()
        let (store, blobs, slots) = (self.store, self.blobs, self.slots)
        DispatchQueue.global().async { [self] in
            slots.wait()
            let skip = state.withLock { $0.cancelled }
            let result =
                skip
                ? .failure(CancellationError())
                : Result {
                    // A blob stored by an earlier pull may have been damaged since: unpack only what checks out.
                    try store.unpack(blob: blobs.path(for: blob), diffID: diffID) {
                        try blobs.verifyIntegrity(blob)
                    }
                }
            slots.signal()
            state.withLock { $0.results[diffID] = result }
            group.leave()
        }
    }

    /// Layers still waiting for a slot are skipped (the pull failed; nothing will use them).
    public func cancel() { state.withLock { $0.cancelled = true } }

    /// Waits until everything started has finished (also after a failed pull, so that no extraction is cut off).
    public func wait() { group.wait() }

    /// The dirs of `layers` (blob digest and diffID, bottom first), starting those not started yet and waiting for
    /// all; the first failure is thrown.
    public func directories(for layers: [(blob: Digest, diffID: Digest)]) throws -> [String] {
        for layer in layers { start(blob: layer.blob, diffID: layer.diffID) }
        wait()
        let finished = state.withLock { $0.results }
        return try layers.map { layer in
            guard let result = finished[layer.diffID] else {
                throw LayersError.notUnpacked(directory: store.directory(for: layer.diffID))
            }
            return try result.get()
        }
    }
}
