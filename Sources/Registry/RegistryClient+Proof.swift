import Foundation
import OCI

/// What a registry's reply must carry before the client believes it: a reply that contradicts the request is an
/// error, and one that merely claims success without the evidence the distribution spec requires is never
/// taken as success.
extension RegistryClient {
    /// Reads the reply to `HEAD /v2/<name>/blobs/<digest>`.
    ///
    /// distribution-spec ("Checking if content exists"): a 200 MUST carry `Docker-Content-Digest` and
    /// `Content-Length`. A size or digest that disagrees with the descriptor is an error (a server that answers
    /// 200 to everything); a reply without the digest proves nothing and the blob is uploaded again, except
    /// after a redirect to storage, where the registry made the claim and storage confirms the size.
    /// - Returns: whether the blob is proven present.
    func blobIsPresent(_ response: HTTPResponse, request: HTTPRequest, descriptor: Descriptor) throws -> Bool {
        if response.status == 404 { return false }
        guard response.status == 200 else {
            if response.isSuccess { return false }
            throw failure(request, response, subject: "blob \(descriptor.digest)")
        }
        let size = response.header("content-length").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        if let size, size != descriptor.size {
            throw RegistryError.protocolViolation(
                "HEAD \(redact(request.url)) answered 200 with Content-Length \(size), but blob \(descriptor.digest) "
                    + "is \(descriptor.size) bytes: \(hostOfURL(request.url) ?? host) does not behave as a container "
                    + "registry")
        }
        let reported = response.header("docker-content-digest").flatMap { try? Digest(parsing: $0) }
        if let reported, reported.algorithm == descriptor.digest.algorithm, reported != descriptor.digest {
            throw OCIError.digestMismatch(
                expected: descriptor.digest, actual: reported, what: "blob as reported by HEAD on \(registry)")
        }
        guard size != nil else { return false }
        return reported == descriptor.digest || (reported == nil && response.fromRedirect)
    }

    /// Reads the reply that closes a blob upload (PUT with `?digest=`) or mounts a blob.
    ///
    /// distribution-spec: success is `201 Created` with the blob's `Location` (204 is tolerated from older
    /// registries); `Docker-Content-Digest`, when sent, must name the same blob. A 2xx carrying neither shows
    /// nothing was stored.
    func checkUploadFinished(
        _ response: HTTPResponse, request: HTTPRequest, descriptor: Descriptor, repository: String, source: String
    ) throws {
        guard response.status == 201 || response.status == 204 else {
            throw blobFailure(request, response, descriptor: descriptor, repository: repository, source: source)
        }
        let reported = response.header("docker-content-digest")
        if let reported, let digest = try? Digest(parsing: reported), digest != descriptor.digest {
            throw OCIError.digestMismatch(
                expected: descriptor.digest, actual: digest, what: "blob as stored by \(registry)")
        }
        guard reported != nil || response.header("location") != nil else {
            throw RegistryError.protocolViolation(
                "\(request.method) \(redact(request.url)) answered \(response.status) for blob \(descriptor.digest) "
                    + "without Location or Docker-Content-Digest: nothing shows the blob was stored")
        }
    }

    /// Reads the reply to a manifest PUT.
    ///
    /// distribution-spec ("Pushing Manifests"): `201 Created` with `Location`; `Docker-Content-Digest` MUST equal
    /// the digest of the bytes sent. A success without either (a server that answers 200 to everything) is an
    /// error, never a pushed image.
    func checkManifestStored(_ response: HTTPResponse, request: HTTPRequest, digest: Digest) throws {
        guard response.isSuccess else { throw failure(request, response) }
        if let page = Self.webPage(response) {
            throw RegistryError.notARegistry(
                method: request.method, url: redact(request.url), status: response.status, reply: page)
        }
        if let header = response.header("docker-content-digest") {
            guard let reported = try? Digest(parsing: header) else {
                throw RegistryError.protocolViolation(
                    "PUT \(redact(request.url)) answered with a malformed Docker-Content-Digest \"\(header.prefix(100))\""
                )
            }
            guard reported == digest else {
                throw OCIError.digestMismatch(
                    expected: digest, actual: reported, what: "manifest as stored by \(registry)")
            }
            return
        }
        guard response.status == 201, response.header("location") != nil else {
            throw RegistryError.protocolViolation(
                "PUT \(redact(request.url)) answered \(response.status) without Docker-Content-Digest or Location: "
                    + "nothing shows the manifest was stored (a registry answers 201 Created with both); is "
                    + "\(hostOfURL(request.url) ?? host) a container registry?")
        }
    }

    /// The error for a reply that is not the expected success: the registry's own error when it sent one, or a
    /// protocol error for a success status the spec does not allow there.
    func unexpected(_ request: HTTPRequest, _ response: HTTPResponse, expected: String, subject: String? = nil)
        -> RegistryError
    {
        guard response.isSuccess else { return failure(request, response, subject: subject) }
        if let page = Self.webPage(response) {
            return .notARegistry(method: request.method, url: redact(request.url), status: response.status, reply: page)
        }
        return .protocolViolation(
            "\(request.method) \(redact(request.url))\(subject.map { " (\($0))" } ?? "") answered \(response.status) "
                + "where a registry answers \(expected); is \(hostOfURL(request.url) ?? host) a container registry?")
    }

    /// The error for a failed blob upload: names the blob, and for `DIGEST_INVALID` the local file whose bytes do
    /// not match their name.
    func blobFailure(
        _ request: HTTPRequest, _ response: HTTPResponse, descriptor: Descriptor, repository: String, source: String
    ) -> RegistryError {
        let error = unexpected(request, response, expected: "201 Created", subject: "blob \(descriptor.digest)")
        if case .http(_, _, _, let errors, _, _) = error, errors.contains(where: { $0.code == "DIGEST_INVALID" }) {
            return .blobRejected(
                digest: descriptor.digest, repository: repository, errors: errors, source: source)
        }
        return error
    }
}
