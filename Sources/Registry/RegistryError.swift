import Foundation
import OCI

/// Errors from talking to registries. Messages never contain credentials or tokens.
public enum RegistryError: Error, CustomStringConvertible {
    /// An image reference did not parse.
    case invalidReference(String, reason: String)
    /// No HTTP reply: `kind` says why (DNS, connection, TLS, timeout), `message` is libcurl's text.
    case transport(url: String, message: String, kind: TransportFailure = .broken)
    /// The registry answered with an error status; `errors` holds the distribution-spec error array if it decoded.
    /// `subject` names what the request was about (a blob) when the URL does not.
    case http(method: String, url: String, status: Int, errors: [ErrorDetail], body: String, subject: String? = nil)
    /// The server answered, but not as a registry does: `reply` describes what came back (an HTML page).
    case notARegistry(method: String, url: String, status: Int, reply: String)
    /// The registry refused an uploaded blob because its bytes do not hash to its digest.
    case blobRejected(digest: Digest, repository: String, errors: [ErrorDetail], source: String)
    /// Authentication failed or credentials are missing.
    case unauthorized(registry: String, repository: String, hint: String)
    /// The registry broke the protocol (missing Location, wrong digest, odd replies).
    case protocolViolation(String)
    /// No manifest for the platform in an index.
    case platformNotFound(reference: String, platform: String, available: [String])
    /// A credential helper failed.
    case credentialHelper(name: String, message: String)

    /// One entry of the distribution spec's `errors` array.
    public struct ErrorDetail: Decodable, Sendable, Equatable {
        public let code: String
        public let message: String?
    }

    public var description: String {
        switch self {
        case .invalidReference(let value, let reason):
            return
                "invalid image reference \"\(value)\": \(reason) (expected [registry/]repository[:tag][@sha256:digest], "
                + "e.g. r8.im/user/model:latest)"
        case .transport(let url, let message, let kind):
            return kind.explain(host: hostOfURL(url) ?? url, url: url, message: message)
        case .http(let method, let url, let status, let errors, let body, let subject):
            let detail =
                errors.isEmpty
                ? (body.isEmpty ? "" : ": \(body.prefix(300))")
                : ": " + Self.describe(errors)
            return "\(method) \(url)\(subject.map { " (\($0))" } ?? "") failed with HTTP \(status)\(detail)"
        case .notARegistry(let method, let url, let status, let reply):
            let host = hostOfURL(url) ?? url
            if status >= 500 {
                return
                    "HTTP \(status) from \(host) for \(method) \(url) (the reply is \(reply), not a registry's): the "
                    + "registry behind it is down or failing; try again later"
            }
            return
                "HTTP \(status) from \(host): not a container registry (the reply to \(method) \(url) is \(reply)); "
                + "check the registry name and port"
        case .blobRejected(let digest, let repository, let errors, let source):
            return
                "the registry refused blob \(digest) for \(repository): \(Self.describe(errors)); the bytes sent from "
                + "\(source) do not hash to that digest, so the local copy is damaged: remove it and build again"
        case .unauthorized(let registry, let repository, let hint):
            return "not authorized for \(repository) on \(registry): \(hint)"
        case .protocolViolation(let message):
            return "registry protocol error: \(message)"
        case .platformNotFound(let reference, let platform, let available):
            return
                "\(reference) has no \(platform) image (it has: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case .credentialHelper(let name, let message):
            return "credential helper docker-credential-\(name) failed: \(message)"
        }
    }

    private static func describe(_ errors: [ErrorDetail]) -> String {
        errors.map { "\($0.code)\($0.message.map { " (\($0))" } ?? "")" }.joined(separator: "; ")
    }

    /// Statuses that may pass on another try.
    static let retryableStatuses: Set<Int> = [408, 429, 499, 500, 502, 503, 504, 522]
}
