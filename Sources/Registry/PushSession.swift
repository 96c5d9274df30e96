import Foundation
import OCI
import Synchronization

/// What the registry did with one blob of a push.
public struct BlobPushResult: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// The registry had it already (HEAD answered 200); nothing was sent.
        case skipped
        /// Linked from another repository of the same registry; nothing was sent.
        case mounted
        /// Its bytes were sent.
        case uploaded
    }

    public let digest: Digest
    public let size: Int64
    public let outcome: Outcome
    /// Bytes sent for it (its size when uploaded, else 0).
    public var bytesSent: Int64 { outcome == .uploaded ? size : 0 }
}

/// A finished push: the manifest's digest and what happened to every blob, layers first, then the config.
public struct PushReport: Sendable {
    public let digest: Digest
    public let blobs: [BlobPushResult]

    public var bytesSent: Int64 { blobs.reduce(0) { $0 + $1.bytesSent } }
    public func count(_ outcome: BlobPushResult.Outcome) -> Int { blobs.filter { $0.outcome == outcome }.count }
}

/// Pushes an image's blobs while the image is still being built: each blob offered starts uploading at once
/// (at most `settings.concurrency` at a time), base layers are mounted or skipped, and `finish` sends whatever
/// was not offered, then the config and the manifest.
public final class PushSession: Sendable {
    private let client: RegistryClient
    private let target: ImageReference
    private let store: BlobStore
    private let progress: TransferProgress
    private let mirrors: [String: [String]]
    private let slots: UploadSlots
    private let locations: BlobLocations?
    private let uploads = Mutex<[Digest: Task<BlobPushResult, Error>]>([:])

    /// - Parameter locations: where blobs were pushed before: a blob known in another repository of the target
    ///   registry is mounted from there; every blob pushed is recorded.
    public init(
        transfer: ImageTransfer, to target: ImageReference, from store: BlobStore, locations: BlobLocations? = nil
    ) throws {
        client = try RegistryClient.connecting(
            to: target.registry, config: transfer.credentials, settings: transfer.settings, http: transfer.http,
            progress: transfer.progress)
        self.target = target
        self.store = store
        progress = transfer.progress
        mirrors = transfer.settings.mirrors
        slots = UploadSlots(transfer.settings.concurrency)
        self.locations = locations
    }

    /// Starts pushing `descriptor`'s blob (already in the store) unless it was offered before; `source` is the
    /// image it came from, whose repository it is mounted from when that lives on the target registry (directly
    /// or as the mirror the base was pulled through).
    public func offer(_ descriptor: Descriptor, from source: ImageReference? = nil) {
        let (client, target, store, progress, slots, locations) = (client, target, store, progress, slots, locations)
        let known = locations?.repositories(holding: descriptor.digest, on: target.registry)
            .first { $0 != target.repository }
        let mountFrom = source.flatMap(mountRepository) ?? known
        uploads.withLock { uploads in
            guard uploads[descriptor.digest] == nil else { return }
            uploads[descriptor.digest] = Task {
                await slots.acquire()
                do {
                    try Task.checkCancellation()
                    let how = try await client.pushBlob(
                        repository: target.repository, descriptor: descriptor, from: store, mountFrom: mountFrom,
                        progress: progress)
                    await slots.release()
                    locations?.record(descriptor.digest, registry: target.registry, repository: target.repository)
                    return BlobPushResult(digest: descriptor.digest, size: descriptor.size, outcome: how)
                } catch {
                    await slots.release()
                    throw error
                }
            }
        }
    }

    /// Pushes what was not offered yet, waits for every upload, then the config and the manifest (under the
    /// reference's tag, else its digest).
    public func finish(_ image: StoredImage) async throws -> PushReport {
        for layer in image.manifest.layers { offer(layer) }
        var results: [BlobPushResult] = []
        for layer in image.manifest.layers where !results.contains(where: { $0.digest == layer.digest }) {
            guard let upload = uploads.withLock({ $0[layer.digest] }) else { continue }
            results.append(try await upload.value)
        }
        let how = try await client.pushBlob(
            repository: target.repository, descriptor: image.manifest.config, from: store, progress: progress)
        results.append(
            BlobPushResult(digest: image.manifest.config.digest, size: image.manifest.config.size, outcome: how))
        let digest = try await client.putManifest(
            repository: target.repository, reference: target.tag ?? image.descriptor.digest.description,
            data: try store.read(image.descriptor), mediaType: image.descriptor.mediaType)
        return PushReport(digest: digest, blobs: results)
    }

    /// The first blob an upload found corrupt in the store (and removed), once every upload has ended; nil when
    /// none did. A build that pushes while it runs fails when such a blob disappears under it: this says why.
    public func corruptBlobFound() async -> OCIError? {
        for upload in uploads.withLock({ Array($0.values) }) {
            if case .failure(let error as OCIError) = await upload.result, case .corruptBlob = error { return error }
        }
        return nil
    }

    /// Stops the uploads still running (the build failed).
    public func cancel() {
        for upload in uploads.withLock({ Array($0.values) }) { upload.cancel() }
    }

    /// The repository to mount a blob of `source` from: the source's own when it is on the target registry, or
    /// when the target registry is the mirror it was pulled through.
    func mountRepository(_ source: ImageReference) -> String? {
        guard source.registry == target.registry || mirrors[source.registry]?.contains(target.registry) == true
        else { return nil }
        return source.repository
    }
}

/// At most N uploads at once; the others wait their turn in order.
actor UploadSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = max(1, count) }

    func acquire() async {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
