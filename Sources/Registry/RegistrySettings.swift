import Foundation

/// Per-machine registry settings (the command line reads them from the environment): mirrors, insecure (plain
/// HTTP) registries, retries, chunking, the CA bundle.
public struct RegistrySettings: Sendable {
    /// `COG_REGISTRY_MIRRORS=docker.io=127.0.0.1:5000,ghcr.io=mirror.local`: pulls from a registry go to its
    /// mirrors first, then to the registry itself.
    public var mirrors: [String: [String]]
    /// `COG_INSECURE_REGISTRIES=host:port,…`: plain HTTP allowed; loopback addresses always are.
    public var insecure: Set<String>
    public var retry: RetryPolicy
    /// Blobs transferred at once.
    public var concurrency: Int
    /// Blobs above this size are pushed in chunks; smaller ones in one streaming PUT.
    public var chunkThreshold: Int64
    public var chunkSize: Int64
    /// The CA bundle servers are verified with (`SSL_CERT_FILE`); nil: libcurl's default.
    public var caBundle: String?
    /// How long a registry request may wait for a connection, a reply, and bytes in a transfer.
    public var timeouts: TransferTimeouts

    public init(
        mirrors: [String: [String]] = [:], insecure: Set<String> = [], retry: RetryPolicy = RetryPolicy(),
        concurrency: Int = 4, chunkThreshold: Int64 = RegistrySettings.defaultChunkThreshold,
        chunkSize: Int64 = 64 << 20,
        caBundle: String? = nil, timeouts: TransferTimeouts = .registry
    ) {
        self.caBundle = caBundle
        self.timeouts = timeouts
        self.mirrors = mirrors
        self.insecure = insecure
        self.retry = retry
        self.concurrency = concurrency
        self.chunkThreshold = chunkThreshold
        self.chunkSize = chunkSize
    }

    /// Above this, blobs go in chunks to HTTPS registries (Cog uses 128 MiB for the same reason: CDN body limits).
    public static let defaultChunkThreshold: Int64 = 256 << 20

    public static func normalizeRegistry(_ name: String) -> String {
        ["index.docker.io", "registry-1.docker.io"].contains(name) ? "docker.io" : name
    }

    /// `http` for loopback and configured insecure hosts, `https` otherwise.
    public func scheme(for host: String) -> String {
        if insecure.contains(host) { return "http" }
        let name: Substring
        if host.hasPrefix("[") {
            name = host.dropFirst().prefix { $0 != "]" }
        } else {
            name = host.split(separator: ":", maxSplits: 1).first ?? Substring(host)
        }
        if name == "localhost" || name.hasPrefix("127.") || name == "::1" { return "http" }
        return "https"
    }
}
