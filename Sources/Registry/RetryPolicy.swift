import Foundation

/// Exponential backoff with jitter for 408, 429 (honouring `Retry-After`), 5xx and broken connections; failures
/// that cannot pass on another try (a certificate that does not verify, a server that does not speak HTTP) are
/// not retried, and a host that does not answer at all gets only a few tries.
public struct RetryPolicy: Sendable {
    /// Attempts in all for failures that may pass (a broken connection, a 503).
    public var maxAttempts: Int
    /// Attempts in all when the host gives no sign of life (no name, no connection, no reply): each such attempt
    /// already waited a timeout.
    public var maxAttemptsUnanswered: Int
    public var initialDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 6, maxAttemptsUnanswered: Int = 3, initialDelay: Double = 0.5, maxDelay: Double = 20)
    {
        self.maxAttempts = maxAttempts
        self.maxAttemptsUnanswered = maxAttemptsUnanswered
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

    /// How many attempts in all a request that failed with `error` gets; 1: it is not retried.
    func attempts(after error: Error) -> Int {
        guard let error = error as? RegistryError else { return 1 }
        switch error {
        case .transport(_, _, let kind):
            switch kind {
            case .certificate, .caBundle, .notHTTP: return 1
            case .unresolvedHost, .connectTimeout, .noReply, .tls:
                return max(1, min(maxAttempts, maxAttemptsUnanswered))
            case .refused, .stalled, .broken: return max(1, maxAttempts)
            }
        case .http(_, _, let status, _, _, _):
            return RegistryError.retryableStatuses.contains(status) ? max(1, maxAttempts) : 1
        default:
            return 1
        }
    }
}
