import Foundation
import OCI

/// A repository used as a build-step cache (`--cache-from`, `--cache-to`): one `StepCacheEntry` per key, tagged
/// `cog-step-<key hex>`. Reached with the same client, credentials and plain-HTTP rules as a push to it.
public struct StepCacheRepository: Sendable {
    /// The registry and repository (a tag given with them is not used: each entry has its own).
    public let reference: ImageReference
    let client: RegistryClient

    /// - Parameter transfer: the settings, credentials and HTTP transport of pushes.
    public init(_ reference: ImageReference, transfer: ImageTransfer) throws {
        self.reference = reference
        client = try transfer.client(for: reference.registry)
    }

    /// `registry/repository`, as a person names the cache.
    public var name: String { "\(reference.registry)/\(reference.repository)" }

    private var repository: String { reference.repository }

    /// The entry stored for `key`, or nil when there is none (the registry answers 404).
    /// - Throws: `RegistryError` when the registry cannot be reached, refuses, or holds something else there.
    public func entry(for key: Digest) async throws -> StepCacheEntry? {
        let tag = StepCacheEntry.tag(for: key)
        let data: Data
        do {
            (data, _, _) = try await client.getManifest(repository: repository, reference: tag)
        } catch RegistryError.http(_, _, 404, _, _, _) {
            return nil
        }
        let source = "\(name):\(tag)"
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: data, what: "manifest of \(source)")
        guard manifest.config.size <= 1 << 20 else {
            throw RegistryError.protocolViolation(
                "\(source): a config of \(manifest.config.size) bytes is no cache entry's")
        }
        let config = try await client.getBlobData(repository: repository, descriptor: manifest.config)
        let configuration = try CanonicalJSON.decode(ImageConfiguration.self, from: config, what: "config of \(source)")
        return try StepCacheEntry(key: key, manifest: manifest, configuration: configuration, source: source)
    }

    /// Downloads the entry's layer blobs into `store` (those not there yet), each checked against its digest.
    public func download(_ entry: StepCacheEntry, into store: BlobStore, concurrency: Int) async throws {
        let (client, repository) = (client, repository)
        try await forEach(entry.layers.map(\.descriptor).sorted { $0.size > $1.size }, limit: concurrency) { layer in
            try await client.getBlob(repository: repository, descriptor: layer, into: store)
        }
    }

    /// Whether an entry for `key` is stored (a HEAD on its tag; 404: not).
    public func contains(_ key: Digest) async throws -> Bool {
        let request = HTTPRequest(
            method: "HEAD", url: client.url("\(repository)/manifests/\(StepCacheEntry.tag(for: key))"),
            headers: [("Accept", MediaType.allManifestTypes.map(\.rawValue).joined(separator: ", "))])
        let response = try await client.send(
            request, scope: RegistryClient.Scope(repository: repository, actions: ["pull", "push"]))
        if response.status == 404 { return false }
        guard response.isSuccess else { throw client.failure(request, response) }
        return true
    }

    /// Stores `entry` unless one is stored for its key already (entries are never replaced): the layer blobs
    /// (skipped when present, mounted from another repository of the registry that `locations` knows), the
    /// config, then the manifest under the key's tag. Two machines storing the same key at once each push a
    /// complete entry; the later tag wins, and either is valid.
    /// - Returns: false when an entry was there already.
    @discardableResult
    public func store(_ entry: StepCacheEntry, from store: BlobStore, locations: BlobLocations? = nil) async throws
        -> Bool
    {
        if try await contains(entry.key) { return false }
        let (client, repository, registry) = (client, repository, reference.registry)
        try await forEach(entry.layers.map(\.descriptor), limit: client.settings.concurrency) { layer in
            let known = locations?.repositories(holding: layer.digest, on: registry).first { $0 != repository }
            try await client.pushBlob(repository: repository, descriptor: layer, from: store, mountFrom: known)
            locations?.record(layer.digest, registry: registry, repository: repository)
        }
        let config = try entry.configuration()
        let configDigest = try store.write(config)
        try await client.pushBlob(
            repository: repository,
            descriptor: Descriptor(mediaType: .imageConfig, digest: configDigest, size: Int64(config.count)),
            from: store)
        _ = try await client.putManifest(
            repository: repository, reference: StepCacheEntry.tag(for: entry.key),
            data: try entry.manifest(config: config), mediaType: .imageManifest)
        return true
    }
}

extension RegistryClient {
    /// A small blob (a config) read into memory, checked against its digest.
    func getBlobData(repository: String, descriptor: Descriptor) async throws -> Data {
        let request = HTTPRequest(method: "GET", url: url("\(repository)/blobs/\(descriptor.digest)"))
        let response = try await send(request, scope: Scope(repository: repository, actions: ["pull"]))
        guard response.status == 200 else { throw unexpected(request, response, expected: "200 OK with the blob") }
        let digest = try Digest.sha256(response.body)
        guard digest == descriptor.digest else {
            throw OCIError.digestMismatch(
                expected: descriptor.digest, actual: digest,
                what: "blob \(descriptor.digest) from \(registry)/\(repository)")
        }
        return response.body
    }
}
