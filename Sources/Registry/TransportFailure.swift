import CCurl

/// Why a request got no HTTP reply, in the terms a person can act on.
public enum TransportFailure: Sendable, Equatable {
    /// The host name does not resolve.
    case unresolvedHost
    /// Nothing accepts connections at that address and port.
    case refused
    /// The connection (TCP and TLS) was not set up within the connect timeout.
    case connectTimeout
    /// The server took the request and sent nothing back within `seconds`.
    case noReply(seconds: Int)
    /// Bytes stopped moving for `seconds` in the middle of a transfer.
    case stalled(seconds: Int)
    /// The server answered with something that is not HTTP (another protocol on that port, or TLS to plain HTTP).
    case notHTTP
    /// The TLS handshake failed (often: the server speaks plain HTTP).
    case tls
    /// The server's certificate does not verify against the CA bundle.
    case certificate
    /// The CA bundle (`SSL_CERT_FILE`) cannot be used.
    case caBundle
    /// The connection broke (reset, closed early, cut short).
    case broken

    /// The failure a libcurl result stands for.
    init(_ code: CURLcode) {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: self = .unresolvedHost
        case CURLE_COULDNT_CONNECT: self = .refused
        // Only the connect timeout is set on the handle; the reply and stall limits are enforced by cog itself.
        case CURLE_OPERATION_TIMEDOUT: self = .connectTimeout
        // HTTP/0.9 (a reply without a status line) is refused by libcurl as an unsupported protocol.
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL: self = .notHTTP
        case CURLE_SSL_CONNECT_ERROR: self = .tls
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH: self = .certificate
        case CURLE_SSL_CACERT_BADFILE: self = .caBundle
        default: self = .broken
        }
    }

    /// What the failure means and what to do, for `host`; `message` is libcurl's own text.
    func explain(host: String, url: String, message: String) -> String {
        switch self {
        case .unresolvedHost:
            return
                "cannot reach \(host): the name does not resolve (\(message)); check the registry name in the image "
                + "reference and this machine's DNS"
        case .refused:
            return "cannot connect to \(host) (\(message)): check the port, and that the registry is running"
        case .connectTimeout:
            return
                "cannot connect to \(host) (\(message)): no connection within the connect timeout; check the address, "
                + "the port and any firewall"
        case .noReply(let seconds):
            return
                "\(host) accepted the connection but sent no reply within \(seconds) s (\(url)): check that it is a "
                + "registry and that it is up"
        case .stalled(let seconds):
            return "the transfer from \(host) stalled: no bytes moved for \(seconds) s (\(url))"
        case .notHTTP:
            return
                "\(host) did not answer in HTTP (\(message)): check the port; a registry that serves TLS must not be "
                + "listed in COG_INSECURE_REGISTRIES"
        case .tls:
            return
                "the TLS handshake with \(host) failed (\(message)); if the registry serves plain HTTP, add \(host) to "
                + "COG_INSECURE_REGISTRIES"
        case .certificate:
            return
                "the TLS certificate of \(host) does not verify (\(message)): if the registry uses a private CA, set "
                + "SSL_CERT_FILE to a bundle that holds it; a registry without TLS goes in COG_INSECURE_REGISTRIES"
        case .caBundle:
            return "cannot use the CA bundle for \(host) (\(message)): set SSL_CERT_FILE to a readable PEM file"
        case .broken:
            return "cannot reach \(url): \(message)"
        }
    }
}
