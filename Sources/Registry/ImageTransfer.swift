import Foundation
import OCI

/// Whole-image pulls and pushes on top of `RegistryClient`: mirrors, platform choice, several blobs at once.
public struct ImageTransfer: Sendable {
    public let settings: RegistrySettings
    /// Where credentials come from.
    public let credentials: DockerConfig
    public let http: any HTTPTransport
    public let progress: TransferProgress

    public init(
        settings: RegistrySettings, credentials: DockerConfig, http: (any HTTPTransport)? = nil,
        progress: TransferProgress = SilentProgress()
    ) {
        self.settings = settings
        self.credentials = credentials
        self.http = http ?? CurlTransport(caBundle: settings.caBundle)
        self.progress = progress
    }

    /// The clients to try for pulling from `registry`: its mirrors first, then the registry itself.
    /// A client for `registry` itself (no mirror), with these settings, credentials and transport: where pushes go.
    public func client(for registry: String) throws -> RegistryClient {
        try RegistryClient.connecting(
            to: registry, config: credentials, settings: settings, http: http, progress: progress)
    }

    func pullClients(for registry: String) throws -> [RegistryClient] {
        let config = credentials
        let mirrors = (settings.mirrors[registry] ?? []).map {
            RegistryClient(
                registry: $0, credentials: try? config.credentials(for: $0), settings: settings, http: http,
                progress: progress)
        }
        return mirrors + [
            RegistryClient(
                registry: registry, credentials: try config.credentials(for: registry), settings: settings, http: http,
                progress: progress)
        ]
    }

    /// Called for each layer as soon as its blob is in the store, with the layer's diffID from the config.
    public typealias LayerArrived = @Sendable (_ layer: Descriptor, _ diffID: Digest) -> Void

    /// Pulls `reference` (choosing `platform` from an index) into `store`: manifest, config and every layer,
    /// each checked against its digest. Returns the image as stored (media types as the registry sent them).
    public func pull(
        _ reference: ImageReference, into store: BlobStore, platform: Platform = .linuxAMD64,
        onLayer: LayerArrived? = nil
    ) async throws -> StoredImage {
        try await pull(reference, into: store, platform: platform, layers: true, onLayer: onLayer)
    }

    /// Pulls `reference` as `pull` does, storing its manifest and config but none of its layers.
    public func pullManifest(_ reference: ImageReference, into store: BlobStore, platform: Platform = .linuxAMD64)
        async throws -> StoredImage
    {
        try await pull(reference, into: store, platform: platform, layers: false, onLayer: nil)
    }

    private func pull(
        _ reference: ImageReference, into store: BlobStore, platform: Platform, layers: Bool, onLayer: LayerArrived?
    ) async throws -> StoredImage {
        let clients = try pullClients(for: reference.registry)
        for (index, client) in clients.enumerated() {
            do {
                return try await pull(
                    reference, with: client, into: store, platform: platform, layers: layers, onLayer: onLayer)
            } catch let error as RegistryError where index + 1 < clients.count {
                if case .http(_, _, let status, _, _, _) = error, status != 404 { throw error }
                if case .unauthorized = error { throw error }
                // Only a mirror has a source after it: the registry itself is the last one, its error the answer.
                guard index + 1 < clients.count else { throw error }
                progress.report(
                    .retrying(
                        nil, reason: "\(client.host): \(error); trying the next source: \(clients[index + 1].host)"))
            }
        }
        throw RegistryError.protocolViolation("no registry to pull \(reference) from")
    }

    private func pull(
        _ reference: ImageReference, with client: RegistryClient, into store: BlobStore, platform: Platform,
        layers fetchLayers: Bool, onLayer: LayerArrived?
    ) async throws -> StoredImage {
        let repository = reference.repository
        // HEAD first (Docker Hub does not count it against the pull limit): a manifest already in the store is
        // read from disk, so a rebuild costs no manifest GET at all.
        var data: Data
        var mediaType: MediaType
        var digest: Digest
        let head = try await headManifestIfReachable(client, repository: repository, reference: reference)
        if let head, store.contains(head.digest), let cached = try? store.read(head) {
            (data, mediaType, digest) = (cached, head.mediaType, head.digest)
        } else {
            (data, mediaType, digest) = try await client.getManifest(
                repository: repository, reference: reference.manifestReference)
        }
        if mediaType.isIndex {
            store.writeVerified(data)
            let index = try CanonicalJSON.decode(ImageIndex.self, from: data, what: "index of \(reference)")
            guard let chosen = index.manifest(for: platform) else {
                throw RegistryError.platformNotFound(
                    reference: reference.description, platform: platform.description,
                    available: index.manifests.compactMap { $0.platform?.description })
            }
            if store.contains(chosen.digest), let cached = try? store.read(chosen) {
                (data, mediaType, digest) = (cached, chosen.mediaType, chosen.digest)
            } else {
                (data, mediaType, digest) = try await client.getManifest(
                    repository: repository, reference: chosen.digest.description)
            }
        }
        try store.write(data)
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: data, what: "manifest of \(reference)")
        try await client.getBlob(repository: repository, descriptor: manifest.config, into: store, progress: progress)
        let configuration = try CanonicalJSON.decode(
            ImageConfiguration.self, from: try store.read(manifest.config), what: "config of \(reference)")
        guard configuration.rootfs.diffIDs.count == manifest.layers.count else {
            throw RegistryError.protocolViolation(
                "\(reference): the config lists \(configuration.rootfs.diffIDs.count) layers, the manifest \(manifest.layers.count)"
            )
        }
        let diffIDs = Dictionary(
            zip(manifest.layers.map(\.digest), configuration.rootfs.diffIDs), uniquingKeysWith: { first, _ in first })
        let layers = fetchLayers ? manifest.layers.sorted { $0.size > $1.size } : []
        try await forEach(layers, limit: settings.concurrency) { layer in
            try await client.getBlob(repository: repository, descriptor: layer, into: store, progress: progress)
            if let onLayer, let diffID = diffIDs[layer.digest] { onLayer(layer, diffID) }
        }
        let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count), platform: platform)
        return StoredImage(descriptor: descriptor, manifest: manifest, configuration: configuration)
    }

    /// Pushes an image whose blobs are in `store`: layers (largest first, several at once), then the config,
    /// then the manifest under the reference's tag. Blobs the registry has are skipped; blobs of an image in
    /// `mountSources` that lives on the same registry (or was pulled through it as a mirror), or that `locations`
    /// knows in another repository of it, are mounted.
    /// - Returns: the manifest digest and what happened to each blob.
    @discardableResult
    public func push(
        _ image: StoredImage, from store: BlobStore, to reference: ImageReference,
        mountSources: [Digest: ImageReference] = [:], locations: BlobLocations? = nil
    ) async throws -> PushReport {
        let session = try PushSession(transfer: self, to: reference, from: store, locations: locations)
        for layer in image.manifest.layers.sorted(by: { $0.size > $1.size }) {
            session.offer(layer, from: mountSources[layer.digest])
        }
        do {
            return try await session.finish(image)
        } catch {
            session.cancel()
            throw error
        }
    }
}

/// The manifest's descriptor from a HEAD, or nil when the HEAD did not give one (an error status, missing headers:
/// the GET that follows reports the registry's own error). A host that cannot be reached fails here, once, rather
/// than again on the GET.
private func headManifestIfReachable(_ client: RegistryClient, repository: String, reference: ImageReference)
    async throws -> Descriptor?
{
    do {
        return try await client.headManifest(repository: repository, reference: reference.manifestReference)
    } catch let error as RegistryError {
        if case .transport = error { throw error }
        return nil
    }
}

/// Runs `body` for each item, at most `limit` at once, in order of submission (a sliding window).
func forEach<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var running = 0
        for item in items {
            if running >= max(1, limit) {
                try await group.next()
                running -= 1
            }
            group.addTask { try await body(item) }
            running += 1
        }
        try await group.waitForAll()
    }
}

extension BlobStore {
    /// Stores a document whose digest was already checked; failures only cost a later re-fetch.
    func writeVerified(_ data: Data) { _ = try? write(data) }
}
