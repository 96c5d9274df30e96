import Foundation
import OCI

extension RegistryClient {
    /// Uploads one blob from `store` unless the registry has it. Tries a cross-repository mount first when a
    /// source repository on the same registry is known.
    /// - Returns: how the blob got there: skipped (the registry had it), mounted or uploaded.
    @discardableResult
    public func pushBlob(
        repository: String, descriptor: Descriptor, from store: BlobStore, mountFrom: String? = nil,
        progress: TransferProgress = SilentProgress()
    ) async throws -> BlobPushResult.Outcome {
        let scope = Scope(
            repository: repository, actions: ["pull", "push"], extra: mountFrom.map { ["repository:\($0):pull"] } ?? [])
        if try await blobExists(repository: repository, digest: descriptor.digest, scope: scope) {
            progress.report(.finished(descriptor.digest, size: descriptor.size, how: "exists"))
            return .skipped
        }
        progress.report(.started(descriptor.digest, size: descriptor.size))
        var location: String
        var minimumChunk: Int64 = 0
        if let mountFrom, mountFrom != repository {
            let request = HTTPRequest(
                method: "POST", url: url("\(repository)/blobs/uploads/?mount=\(descriptor.digest)&from=\(mountFrom)"))
            let response = try await send(request, scope: scope)
            if response.status == 201 {
                progress.report(.finished(descriptor.digest, size: descriptor.size, how: "mounted"))
                return .mounted
            }
            // 202: the mount failed and an upload session was opened instead: use it. Anything else: start over.
            if response.status == 202, let next = response.header("location") {
                location = resolveLocation(next, against: request.url)
                minimumChunk = response.header("oci-chunk-min-length").flatMap(Int64.init) ?? 0
            } else {
                (location, minimumChunk) = try await startUpload(repository: repository, scope: scope)
            }
        } else {
            (location, minimumChunk) = try await startUpload(repository: repository, scope: scope)
        }
        let path = store.path(for: descriptor.digest)
        if descriptor.size <= chunkThreshold {
            if let done = try await putWhole(
                location: location, descriptor: descriptor, path: path, scope: scope, progress: progress)
            {
                try check(done, descriptor)
                progress.report(.finished(descriptor.digest, size: descriptor.size, how: "uploaded"))
                return .uploaded
            }
            // The single PUT broke: continue in chunks from what the registry kept.
        }
        let final = try await uploadChunks(
            location: location, descriptor: descriptor, path: path, minimumChunk: minimumChunk, repository: repository,
            scope: scope, resyncFirst: descriptor.size <= chunkThreshold, progress: progress)
        try check(final, descriptor)
        progress.report(.finished(descriptor.digest, size: descriptor.size, how: "uploaded"))
        return .uploaded
    }

    /// Chunks exist for proxies and CDNs that cap request bodies; a plain-HTTP registry (loopback or named
    /// insecure, so local by construction) takes any size in one streaming PUT, which is faster.
    var chunkThreshold: Int64 {
        baseURL.hasPrefix("http://") && settings.chunkThreshold == RegistrySettings.defaultChunkThreshold
            ? .max : settings.chunkThreshold
    }

    func blobExists(repository: String, digest: Digest, scope: Scope) async throws -> Bool {
        let request = HTTPRequest(method: "HEAD", url: url("\(repository)/blobs/\(digest)"))
        let response = try await send(request, scope: scope)
        if response.status == 404 { return false }
        guard response.isSuccess else { throw failure(request, response) }
        return true
    }

    /// `POST /blobs/uploads/`: opens a session; returns its Location and the registry's minimum chunk size.
    func startUpload(repository: String, scope: Scope) async throws -> (String, Int64) {
        let request = HTTPRequest(
            method: "POST", url: url("\(repository)/blobs/uploads/"), headers: [("Content-Length", "0")])
        let response = try await send(request, scope: scope)
        guard response.status == 202, let location = response.header("location") else {
            if response.isSuccess {
                throw RegistryError.protocolViolation(
                    "POST \(redact(request.url)) answered \(response.status) without an upload Location")
            }
            throw failure(request, response)
        }
        return (
            resolveLocation(location, against: request.url),
            response.header("oci-chunk-min-length").flatMap(Int64.init) ?? 0
        )
    }

    /// One streaming PUT with the whole blob. Returns the response, or nil when the transfer broke and the
    /// caller should continue in chunks.
    private func putWhole(
        location: String, descriptor: Descriptor, path: String, scope: Scope, progress: TransferProgress
    ) async throws -> HTTPResponse? {
        let request = HTTPRequest(
            method: "PUT", url: appendingDigest(location, descriptor.digest),
            headers: [("Content-Type", "application/octet-stream")],
            body: .file(path: path, offset: 0, length: descriptor.size))
        do {
            let response = try await send(request, scope: scope, retry: false)
            if response.status == 201 || response.status == 204 { return response }
            if [408, 429, 500, 502, 503, 504].contains(response.status) {
                progress.report(
                    .retrying(descriptor.digest, reason: "HTTP \(response.status) on PUT; continuing in chunks"))
                return nil
            }
            throw failure(request, response)
        } catch let error as RegistryError where error.isRetryable {
            progress.report(.retrying(descriptor.digest, reason: "\(error); continuing in chunks"))
            return nil
        }
    }

    /// The chunked upload state machine: PATCH with `Content-Range` from the offset the registry confirms,
    /// always following the newest Location; after a failure or a 416, ask the registry where it stands and
    /// resume from there (never from zero on a live session).
    private func uploadChunks(
        location start: String, descriptor: Descriptor, path: String, minimumChunk: Int64,
        repository: String, scope: Scope, resyncFirst: Bool, progress: TransferProgress
    ) async throws -> HTTPResponse {
        var location = start
        var offset: Int64 = 0
        var failures = 0
        let chunk = max(settings.chunkSize, minimumChunk)
        var resync = resyncFirst
        while true {
            if resync {
                resync = false
                switch try await uploadStatus(location: location, scope: scope) {
                case .offset(let confirmed, let newLocation):
                    offset = confirmed
                    location = newLocation
                case .gone:
                    (location, _) = try await startUpload(repository: repository, scope: scope)
                    offset = 0
                }
            }
            if offset >= descriptor.size { break }
            let end = min(descriptor.size, offset + chunk) - 1
            // distribution-spec: Content-Range has no "bytes " prefix.
            let request = HTTPRequest(
                method: "PATCH", url: location,
                headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "\(offset)-\(end)")],
                body: .file(path: path, offset: offset, length: end - offset + 1))
            do {
                let response = try await send(request, scope: scope, retry: false)
                guard response.status == 202 || response.status == 201 || response.status == 204 else {
                    // 404: the registry dropped the session (distribution does after a truncated PATCH): resync
                    // finds it gone and opens a new one.
                    if response.status == 416 || response.status == 404
                        || [408, 429, 500, 502, 503, 504].contains(response.status)
                    {
                        throw RegistryError.transport(
                            url: redact(location), message: "HTTP \(response.status) on PATCH")
                    }
                    throw failure(request, response)
                }
                if let next = response.header("location") { location = resolveLocation(next, against: location) }
                offset = response.header("range").flatMap(parseRangeEnd).map { $0 + 1 } ?? end + 1
                failures = 0
                progress.report(.progressed(descriptor.digest, bytes: offset, size: descriptor.size))
            } catch let error as RegistryError where error.isRetryable {
                failures += 1
                guard failures < settings.retry.maxAttempts else { throw error }
                progress.report(.retrying(descriptor.digest, reason: error.description))
                try await Task.sleep(nanoseconds: UInt64(settings.retry.delay(attempt: failures) * 1e9))
                resync = true
            }
        }
        let close = HTTPRequest(
            method: "PUT", url: appendingDigest(location, descriptor.digest), headers: [("Content-Length", "0")])
        let response = try await send(close, scope: scope)
        guard response.status == 201 || response.status == 204 else { throw failure(close, response) }
        return response
    }

    enum UploadStatus {
        case offset(Int64, location: String)
        case gone
    }

    /// `GET <location>`: 204 with `Range: 0-N` says how much the registry has.
    private func uploadStatus(location: String, scope: Scope) async throws -> UploadStatus {
        let request = HTTPRequest(method: "GET", url: location)
        let response = try await send(request, scope: scope)
        if response.status == 404 { return .gone }
        guard response.isSuccess else { throw failure(request, response) }
        let next = response.header("location").map { resolveLocation($0, against: location) } ?? location
        // "0-0" is what distribution answers for an empty session (and, ambiguously, for one byte): treat it as empty.
        let end = response.header("range").flatMap(parseRangeEnd) ?? -1
        return .offset(end > 0 ? end + 1 : 0, location: next)
    }

    private func check(_ response: HTTPResponse, _ descriptor: Descriptor) throws {
        if let header = response.header("docker-content-digest"), let reported = try? Digest(parsing: header),
            reported != descriptor.digest
        {
            throw OCIError.digestMismatch(
                expected: descriptor.digest, actual: reported, what: "blob as stored by \(registry)")
        }
    }

    /// Pushes a manifest (its exact bytes) under a tag or digest; checks the digest the registry reports.
    public func putManifest(repository: String, reference: String, data: Data, mediaType: MediaType) async throws
        -> Digest
    {
        let request = HTTPRequest(
            method: "PUT", url: url("\(repository)/manifests/\(reference)"),
            headers: [("Content-Type", mediaType.rawValue)], body: .data(data))
        let response = try await send(request, scope: Scope(repository: repository, actions: ["pull", "push"]))
        guard response.isSuccess else { throw failure(request, response) }
        let digest = try Digest.sha256(data)
        if let header = response.header("docker-content-digest"), let reported = try? Digest(parsing: header),
            reported != digest
        {
            throw OCIError.digestMismatch(expected: digest, actual: reported, what: "manifest as stored by \(registry)")
        }
        return digest
    }
}

/// `0-1023` → 1023 (the last byte the registry has); `bytes=0-1023` tolerated.
func parseRangeEnd(_ header: String) -> Int64? {
    let value = header.hasPrefix("bytes=") ? String(header.dropFirst(6)) : header
    guard let dash = value.firstIndex(of: "-") else { return nil }
    return Int64(value[value.index(after: dash)...].trimmingCharacters(in: .whitespaces))
}

/// Adds `digest=` to an upload URL, keeping the query it may already carry (distribution's `_state`).
func appendingDigest(_ location: String, _ digest: Digest) -> String {
    location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
}
