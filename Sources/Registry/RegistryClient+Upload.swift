import Foundation
import OCI

extension RegistryClient {
    /// The chunked upload state machine: PATCH with `Content-Range` from the offset the registry confirms,
    /// always following the newest Location; after a failure or a 416, ask the registry where it stands and
    /// resume from there (never from zero on a live session).
    func uploadChunks(
        location start: String, descriptor: Descriptor, path: String, chunkSize chunk: Int64,
        repository: String, scope: Scope, resyncFirst: Bool, commitHeaders: [(name: String, value: String)],
        progress: TransferProgress
    ) async throws {
        var location = start
        var offset: Int64 = 0
        var failures = 0
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
                        || RegistryError.retryableStatuses.contains(response.status)
                    {
                        throw RegistryError.transport(
                            url: redact(location), message: "HTTP \(response.status) on PATCH")
                    }
                    throw blobFailure(
                        request, response, descriptor: descriptor, repository: scope.repository, source: path)
                }
                if let next = response.header("location") { location = resolveLocation(next, against: location) }
                offset = response.header("range").flatMap(parseRangeEnd).map { $0 + 1 } ?? end + 1
                failures = 0
                progress.report(.progressed(descriptor.digest, bytes: offset, size: descriptor.size))
            } catch let error as RegistryError where settings.retry.attempts(after: error) > 1 {
                failures += 1
                guard failures < settings.retry.attempts(after: error) else { throw error }
                progress.report(.retrying(descriptor.digest, reason: error.description))
                try await Task.sleep(nanoseconds: UInt64(settings.retry.delay(attempt: failures) * 1e9))
                resync = true
            }
        }
        let close = HTTPRequest(
            method: "PUT", url: appendingDigest(location, descriptor.digest),
            headers: [("Content-Length", "0")] + commitHeaders)
        let response = try await send(close, scope: scope, digest: descriptor.digest)
        try checkUploadFinished(
            response, request: close, descriptor: descriptor, repository: scope.repository, source: path)
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
}

/// The chunk sizes a registry takes, from `OCI-Chunk-Min-Length` and `OCI-Chunk-Max-Length` in its reply opening
/// an upload session (0: not said).
struct ChunkLimits: Sendable, Equatable {
    var minimum: Int64 = 0
    var maximum: Int64 = 0

    init(minimum: Int64 = 0, maximum: Int64 = 0) {
        self.minimum = minimum
        self.maximum = maximum
    }

    init(_ response: HTTPResponse) {
        let value = { (name: String) in response.header(name).flatMap { Int64($0) }.map { max($0, 0) } ?? 0 }
        self.init(minimum: value("oci-chunk-min-length"), maximum: value("oci-chunk-max-length"))
    }

    /// Cog's rule: the registry's maximum less 64 KiB for framing (the maximum itself when smaller than that)
    /// wins over the configured size; then at least the registry's minimum.
    func chunkSize(_ configured: Int64) -> Int64 {
        var size = configured
        if maximum > 0 { size = maximum > Self.margin ? maximum - Self.margin : maximum }
        return max(size, minimum)
    }

    static let margin: Int64 = 64 << 10
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
