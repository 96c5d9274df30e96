import Foundation
import OCI

extension RegistryClient {
    /// Uploads one blob from `store` unless the registry proves it has it. Tries a cross-repository mount first
    /// when a source repository on the same registry is known.
    /// - Parameter layerMediaType: sent as `OCI-Layer-Media-Type` with the request that commits the upload. Opt-in,
    ///   as in Cog, which sends it for weight artifacts only, so that image layers keep the registry's limits.
    /// - Returns: how the blob got there: skipped (the registry had it), mounted or uploaded.
    /// - Throws: `RegistryError` when the registry refuses the blob or a reply does not prove it was stored.
    @discardableResult
    public func pushBlob(
        repository: String, descriptor: Descriptor, from store: BlobStore, mountFrom: String? = nil,
        layerMediaType: String? = nil, progress: TransferProgress = SilentProgress()
    ) async throws -> BlobPushResult.Outcome {
        let scope = Scope(
            repository: repository, actions: ["pull", "push"], extra: mountFrom.map { ["repository:\($0):pull"] } ?? [])
        if try await blobExists(repository: repository, descriptor: descriptor, scope: scope) {
            progress.report(.finished(descriptor.digest, size: descriptor.size, how: "exists"))
            return .skipped
        }
        // A blob damaged in the store since it was written is never sent (nor left in the store, for the cache's).
        try store.verifyIntegrity(descriptor.digest, size: descriptor.size)
        progress.report(.started(descriptor.digest, size: descriptor.size))
        let path = store.path(for: descriptor.digest)
        var location: String
        var limits = ChunkLimits()
        if let mountFrom, mountFrom != repository {
            let request = HTTPRequest(
                method: "POST", url: url("\(repository)/blobs/uploads/?mount=\(descriptor.digest)&from=\(mountFrom)"))
            let response = try await send(request, scope: scope, digest: descriptor.digest)
            if response.status == 201 {
                try checkUploadFinished(
                    response, request: request, descriptor: descriptor, repository: scope.repository, source: path)
                progress.report(.finished(descriptor.digest, size: descriptor.size, how: "mounted"))
                return .mounted
            }
            // 202: the mount failed and an upload session was opened instead: use it. Anything else: start over.
            if response.status == 202, let next = response.header("location") {
                location = resolveLocation(next, against: request.url)
                limits = ChunkLimits(response)
            } else {
                (location, limits) = try await startUpload(repository: repository, scope: scope)
            }
        } else {
            (location, limits) = try await startUpload(repository: repository, scope: scope)
        }
        let commitHeaders: [(name: String, value: String)] = layerMediaType.map { [("OCI-Layer-Media-Type", $0)] } ?? []
        if descriptor.size <= chunkThreshold {
            if try await putWhole(
                location: location, descriptor: descriptor, path: path, scope: scope, headers: commitHeaders,
                progress: progress)
            {
                progress.report(.finished(descriptor.digest, size: descriptor.size, how: "uploaded"))
                return .uploaded
            }
            // The single PUT broke: continue in chunks from what the registry kept.
        }
        try await uploadChunks(
            location: location, descriptor: descriptor, path: path, chunkSize: limits.chunkSize(settings.chunkSize),
            repository: repository, scope: scope, resyncFirst: descriptor.size <= chunkThreshold,
            commitHeaders: commitHeaders, progress: progress)
        progress.report(.finished(descriptor.digest, size: descriptor.size, how: "uploaded"))
        return .uploaded
    }

    /// Chunks exist for proxies and CDNs that cap request bodies; a plain-HTTP registry (loopback or named
    /// insecure, so local by construction) takes any size in one streaming PUT, which is faster.
    var chunkThreshold: Int64 {
        baseURL.hasPrefix("http://") && settings.chunkThreshold == RegistrySettings.defaultChunkThreshold
            ? .max : settings.chunkThreshold
    }

    /// Whether the registry has a blob: `HEAD`, whose reply must prove it (see `blobIsPresent`).
    public func blobExists(repository: String, descriptor: Descriptor) async throws -> Bool {
        try await blobExists(
            repository: repository, descriptor: descriptor, scope: Scope(repository: repository, actions: ["pull"]))
    }

    func blobExists(repository: String, descriptor: Descriptor, scope: Scope) async throws -> Bool {
        let request = HTTPRequest(method: "HEAD", url: url("\(repository)/blobs/\(descriptor.digest)"))
        let response = try await send(request, scope: scope, digest: descriptor.digest)
        return try blobIsPresent(response, request: request, descriptor: descriptor)
    }

    /// `POST /blobs/uploads/`: opens a session; returns its Location and the chunk sizes the registry takes.
    func startUpload(repository: String, scope: Scope) async throws -> (String, ChunkLimits) {
        let request = HTTPRequest(
            method: "POST", url: url("\(repository)/blobs/uploads/"), headers: [("Content-Length", "0")])
        let response = try await send(request, scope: scope)
        guard response.status == 202, let location = response.header("location") else {
            throw unexpected(request, response, expected: "202 Accepted with the upload's Location")
        }
        return (resolveLocation(location, against: request.url), ChunkLimits(response))
    }

    /// One streaming PUT with the whole blob. Returns true when the registry stored it, false when the transfer
    /// broke and the caller should continue in chunks.
    private func putWhole(
        location: String, descriptor: Descriptor, path: String, scope: Scope, headers: [(name: String, value: String)],
        progress: TransferProgress
    ) async throws -> Bool {
        let request = HTTPRequest(
            method: "PUT", url: appendingDigest(location, descriptor.digest),
            headers: [("Content-Type", "application/octet-stream")] + headers,
            body: .file(path: path, offset: 0, length: descriptor.size))
        let response: HTTPResponse
        do {
            response = try await send(request, scope: scope, retry: false)
        } catch let error as RegistryError where settings.retry.attempts(after: error) > 1 {
            progress.report(.retrying(descriptor.digest, reason: "\(error); continuing in chunks"))
            return false
        }
        if RegistryError.retryableStatuses.contains(response.status) {
            progress.report(
                .retrying(descriptor.digest, reason: "HTTP \(response.status) on PUT; continuing in chunks"))
            return false
        }
        try checkUploadFinished(
            response, request: request, descriptor: descriptor, repository: scope.repository, source: path)
        return true
    }

    /// Pushes a manifest (its exact bytes) under a tag or digest.
    /// - Returns: the manifest's digest, once the registry's reply shows it stored exactly these bytes.
    public func putManifest(repository: String, reference: String, data: Data, mediaType: MediaType) async throws
        -> Digest
    {
        let request = HTTPRequest(
            method: "PUT", url: url("\(repository)/manifests/\(reference)"),
            headers: [("Content-Type", mediaType.rawValue)], body: .data(data))
        let response = try await send(request, scope: Scope(repository: repository, actions: ["pull", "push"]))
        let digest = try Digest.sha256(data)
        try checkManifestStored(response, request: request, digest: digest)
        return digest
    }
}
