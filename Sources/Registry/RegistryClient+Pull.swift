import Foundation
import OCI

extension RegistryClient {
    /// Resolves a tag to the descriptor of what it points at, with one HEAD (not counted by Docker Hub's limit);
    /// falls back to a GET for registries that omit the digest on HEAD.
    public func resolve(repository: String, reference: String) async throws -> Descriptor {
        if let descriptor = try await headManifest(repository: repository, reference: reference) { return descriptor }
        let (data, mediaType, digest) = try await getManifest(repository: repository, reference: reference)
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// The descriptor a HEAD reports, or nil when the registry leaves out the digest, type or length.
    func headManifest(repository: String, reference: String) async throws -> Descriptor? {
        let request = HTTPRequest(
            method: "HEAD", url: url("\(repository)/manifests/\(reference)"),
            headers: [("Accept", MediaType.allManifestTypes.map(\.rawValue).joined(separator: ", "))])
        let response = try await send(request, scope: Scope(repository: repository, actions: ["pull"]))
        guard response.isSuccess else { throw failure(request, response) }
        guard let digestText = response.header("docker-content-digest"), let digest = try? Digest(parsing: digestText),
            let type = response.header("content-type"), let size = response.header("content-length").flatMap(Int64.init)
        else { return nil }
        return Descriptor(mediaType: MediaType(rawValue: type), digest: digest, size: size)
    }

    /// distribution-spec: a manifest GET answers with the manifest, a JSON document; a web page or other text
    /// there means the server is not a registry.
    private func checkIsManifest(_ response: HTTPResponse, request: HTTPRequest) throws {
        if let page = Self.webPage(response) {
            throw RegistryError.notARegistry(
                method: request.method, url: redact(request.url), status: response.status, reply: page)
        }
        guard (try? JSONSerialization.jsonObject(with: response.body)) is [String: Any] else {
            let type = response.header("content-type") ?? "no Content-Type"
            throw RegistryError.protocolViolation(
                "GET \(redact(request.url)) answered 200 with \(response.body.count) bytes of \(type) that are not a "
                    + "manifest (a JSON document): is \(hostOfURL(request.url) ?? host) a container registry?")
        }
    }

    /// A complete 2xx body (its whole `Content-Length` arrived) that leaves the blob short is not a broken
    /// connection to retry but a reply about something else.
    private func checkBodyLength(_ response: HTTPResponse, state: DownloadState, request: HTTPRequest) throws {
        guard response.isSuccess, state.received < state.size,
            let length = response.header("content-length").flatMap(Int64.init), length == state.receivedThisResponse
        else { return }
        throw OCIError.sizeMismatch(
            expected: state.size, actual: state.received,
            what: "blob \(state.digest) from \(redact(request.url)) (the reply was complete)")
    }

    /// Gets a manifest or index, accepting OCI and Docker types in one request; checks the digest.
    public func getManifest(repository: String, reference: String) async throws -> (
        data: Data, mediaType: MediaType, digest: Digest
    ) {
        let request = HTTPRequest(
            method: "GET", url: url("\(repository)/manifests/\(reference)"),
            headers: [("Accept", MediaType.allManifestTypes.map(\.rawValue).joined(separator: ", "))])
        let response = try await send(request, scope: Scope(repository: repository, actions: ["pull"]))
        guard response.status == 200 else { throw unexpected(request, response, expected: "200 OK with the manifest") }
        try checkIsManifest(response, request: request)
        let digest = try Digest.sha256(response.body)
        if let expected = try? Digest(parsing: reference), expected != digest {
            throw OCIError.digestMismatch(
                expected: expected, actual: digest, what: "manifest \(repository)@\(reference)")
        }
        if let header = response.header("docker-content-digest"), let claimed = try? Digest(parsing: header),
            claimed.algorithm == .sha256, claimed != digest
        {
            throw OCIError.digestMismatch(
                expected: claimed, actual: digest, what: "manifest \(repository):\(reference)")
        }
        var mediaType = response.header("content-type").map {
            MediaType(rawValue: $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces))
        }
        if mediaType == nil || !(mediaType!.isManifest || mediaType!.isIndex) {
            struct Probe: Decodable {
                let mediaType: MediaType?
                let manifests: [Descriptor]?
            }
            let probe = try? JSONDecoder().decode(Probe.self, from: response.body)
            mediaType = probe?.mediaType ?? (probe?.manifests != nil ? .imageIndex : .imageManifest)
        }
        return (response.body, mediaType ?? .imageManifest, digest)
    }

    /// Downloads a blob into `store`, checking size and digest on the way. A broken connection resumes with
    /// `Range` from the bytes already on disk.
    public func getBlob(
        repository: String, descriptor: Descriptor, into store: BlobStore, progress: TransferProgress = SilentProgress()
    ) async throws {
        if store.contains(descriptor.digest) {
            progress.report(.finished(descriptor.digest, size: descriptor.size, how: "cached"))
            return
        }
        progress.report(.started(descriptor.digest, size: descriptor.size))
        let temporary = try store.temporaryPath()
        let state = try DownloadState(
            path: temporary, algorithm: descriptor.digest.algorithm, digest: descriptor.digest, size: descriptor.size,
            progress: progress)
        defer { FileSystem.remove(temporary) }
        var attempt = 1
        var receivedAtLastFailure: Int64 = 0
        while true {
            var request = HTTPRequest(method: "GET", url: url("\(repository)/blobs/\(descriptor.digest)"))
            let offset = state.received
            if offset > 0 { request.setHeader("Range", "bytes=\(offset)-") }
            state.beginResponse()
            do {
                let response = try await send(
                    request, scope: Scope(repository: repository, actions: ["pull"]), retry: false
                ) {
                    .stream { status, bytes in try state.write(status: status, rangeRequested: offset > 0, bytes) }
                }
                if response.isSuccess && state.received == descriptor.size { break }
                try checkBodyLength(response, state: state, request: request)
                if response.isSuccess || RegistryError.retryableStatuses.contains(response.status)
                    || response.status == 416
                {
                    if response.status == 416 { try state.reset() }
                    throw RegistryError.transport(
                        url: redact(request.url),
                        message: "HTTP \(response.status) after \(state.received) of \(descriptor.size) bytes")
                }
                throw failure(request, response)
            } catch let error as RegistryError {
                // A download that moved on since the last break starts its count again: a multi-GB layer over a
                // flaky link may break many times and still finish.
                if state.received >= receivedAtLastFailure + (1 << 20) { attempt = 1 }
                receivedAtLastFailure = state.received
                let limit = settings.retry.attempts(after: error)
                guard attempt < limit else { throw error }
                progress.report(.retrying(descriptor.digest, reason: "\(error) (attempt \(attempt) of \(limit))"))
                try await Task.sleep(nanoseconds: UInt64(settings.retry.delay(attempt: attempt) * 1e9))
                attempt += 1
            }
        }
        let digest = try state.finish()
        guard digest == descriptor.digest else {
            throw OCIError.digestMismatch(
                expected: descriptor.digest, actual: digest,
                what: "blob \(descriptor.digest) from \(registry)/\(repository)")
        }
        try store.commit(temporary: temporary, digest: digest)
        progress.report(.finished(descriptor.digest, size: descriptor.size, how: "downloaded"))
    }
}

/// The file and hash of one download; used by one transfer at a time.
private final class DownloadState: @unchecked Sendable {
    let path: String
    let algorithm: Digest.Algorithm
    let digest: Digest
    let size: Int64
    let progress: TransferProgress
    private var file: FileStream
    private var hasher: DigestHasher
    private(set) var received: Int64 = 0
    /// Bytes of the response in progress.
    private(set) var receivedThisResponse: Int64 = 0
    private var firstChunkOfResponse = true
    private var lastReport: Int64 = 0

    init(path: String, algorithm: Digest.Algorithm, digest: Digest, size: Int64, progress: TransferProgress) throws {
        self.path = path
        self.algorithm = algorithm
        self.digest = digest
        self.size = size
        self.progress = progress
        file = try FileStream.create(path)
        hasher = try DigestHasher(algorithm)
    }

    func write(status: Int, rangeRequested: Bool, _ bytes: UnsafeRawBufferPointer) throws {
        if firstChunkOfResponse {
            firstChunkOfResponse = false
            // The server ignored our Range and sends everything again: start over.
            if rangeRequested && status == 200 { try reset() }
        }
        guard received + Int64(bytes.count) <= size else {
            throw OCIError.sizeMismatch(expected: size, actual: received + Int64(bytes.count), what: "blob \(digest)")
        }
        try hasher.update(bytes)
        try file.write(bytes)
        received += Int64(bytes.count)
        receivedThisResponse += Int64(bytes.count)
        if received - lastReport >= 8 << 20 || received == size {
            lastReport = received
            progress.report(.progressed(digest, bytes: received, size: size))
        }
    }

    func beginResponse() {
        firstChunkOfResponse = true
        receivedThisResponse = 0
    }

    func reset() throws {
        try file.close()
        file = try FileStream.create(path)
        hasher = try DigestHasher(algorithm)
        received = 0
    }

    func finish() throws -> Digest {
        try file.close()
        return try hasher.finalize()
    }
}
