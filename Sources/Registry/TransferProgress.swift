import OCI

/// What happens to each blob during a pull or push, for progress displays.
public enum TransferEvent: Sendable {
    case started(Digest, size: Int64)
    case progressed(Digest, bytes: Int64, size: Int64)
    /// `how`: "downloaded", "uploaded", "exists", "mounted", "cached".
    case finished(Digest, size: Int64, how: String)
    /// A transient failure that will be retried.
    case retrying(Digest?, reason: String)
}

/// Receives transfer events; called from several tasks at once.
public protocol TransferProgress: Sendable {
    func report(_ event: TransferEvent)
}

/// Discards events.
public struct SilentProgress: TransferProgress {
    public init() {}
    public func report(_ event: TransferEvent) {}
}
