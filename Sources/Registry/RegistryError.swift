import Foundation
import OCI

/// Errors from talking to registries. Messages never contain credentials or tokens.
public enum RegistryError: Error, CustomStringConvertible {
    /// An image reference did not parse.
    case invalidReference(String, reason: String)
    /// The transport failed (DNS, connection, TLS, timeout).
    case transport(url: String, message: String)
    /// The registry answered with an error status; `errors` holds the distribution-spec error array if it decoded.
    case http(method: String, url: String, status: Int, errors: [ErrorDetail], body: String)
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
                "invalid image reference \"\(value)\": \(reason) (expected [registry/]repository[:tag][@sha256:digest], e.g. r8.im/user/model:latest)"
        case .transport(let url, let message):
            return "cannot reach \(url): \(message)"
        case .http(let method, let url, let status, let errors, let body):
            let detail =
                errors.isEmpty
                ? (body.isEmpty ? "" : ": \(body.prefix(300))")
                : ": " + errors.map { "\($0.code)\($0.message.map { " (\($0))" } ?? "")" }.joined(separator: "; ")
            return "\(method) \(url) failed with HTTP \(status)\(detail)"
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

    /// Whether trying again later may succeed.
    var isRetryable: Bool {
        switch self {
        case .transport: return true
        case .http(_, _, let status, _, _): return status == 408 || status == 429 || status == 499 || status >= 500
        default: return false
        }
    }
}
