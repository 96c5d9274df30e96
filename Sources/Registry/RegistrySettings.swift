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

    public init(
        mirrors: [String: [String]] = [:], insecure: Set<String> = [], retry: RetryPolicy = RetryPolicy(),
        concurrency: Int = 4, chunkThreshold: Int64 = RegistrySettings.defaultChunkThreshold,
        chunkSize: Int64 = 64 << 20,
        caBundle: String? = nil
    ) {
        self.caBundle = caBundle
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

/// Exponential backoff with jitter for 408, 429 (honouring `Retry-After`), 5xx and broken connections.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var initialDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 6, initialDelay: Double = 0.5, maxDelay: Double = 20) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait before attempt `attempt` (1-based retry count).
    func delay(attempt: Int, retryAfter: String? = nil) -> Double {
        if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)) {
            return min(seconds, maxDelay * 3)
        }
        let base = min(maxDelay, initialDelay * pow(2, Double(attempt - 1)))
        return base * Double.random(in: 0.5...1.0)
    }
}
