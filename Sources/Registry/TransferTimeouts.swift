/// How long a request may wait, phase by phase. There is deliberately no limit on a whole transfer: a multi-GB
/// layer over a slow link takes as long as it takes, provided bytes keep moving.
public struct TransferTimeouts: Sendable, Equatable {
    /// Seconds to set up a connection: name lookup, TCP and the TLS handshake.
    public var connect: Double
    /// Seconds to wait for the first byte of the reply once the request is sent; nil: as long as the server
    /// needs (a model's prediction).
    public var reply: Double?
    /// Extra reply seconds per GiB of request body: a registry may hash or move a blob it just received before it
    /// answers the PUT.
    public var replyPerGiBSent: Double
    /// Seconds without a byte moving in either direction while the request body goes out or the reply comes in;
    /// nil: no limit.
    public var stall: Double?

    public init(connect: Double = 15, reply: Double? = nil, replyPerGiBSent: Double = 20, stall: Double? = 120) {
        self.connect = connect
        self.reply = reply
        self.replyPerGiBSent = replyPerGiBSent
        self.stall = stall
    }

    /// What registry requests get: a server that accepts the connection and never answers is given up on after
    /// 20 s (three attempts: about a minute in all), a transfer after 60 s without a byte.
    public static let registry = TransferTimeouts(connect: 15, reply: 20, replyPerGiBSent: 20, stall: 60)

    /// The reply wait after a request body of `bytes`. Past a MiB, the server's buffers may still hold a good part
    /// of the body for it to read, hash and store, which cannot be told apart from silence: the wait is then at
    /// least the stall limit, plus time per GiB.
    func replyLimit(afterSending bytes: Int64) -> Double? {
        guard let reply else { return nil }
        guard bytes >= 1 << 20 else { return reply }
        return max(reply, stall ?? reply) + Double(bytes) / Double(1 << 30) * replyPerGiBSent
    }
}
