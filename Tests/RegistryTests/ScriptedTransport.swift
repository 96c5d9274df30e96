import Foundation
import OCI
import Synchronization

@testable import Registry

/// An in-process transport that answers requests from a script, in order, and records what was sent: for table
/// tests of the registry client's rules (retries, tokens, redirects, resumed downloads) without a live process.
final class ScriptedTransport: HTTPTransport {
    /// One scripted reply: a status, headers, a body (streamed when the caller streams), or a broken connection
    /// after `body` (a transfer error, as curl reports a reset), or no reply at all (`fails`: the transport error
    /// of that kind, as `CurlTransport` reports it).
    struct Reply: Sendable {
        var status = 200
        var headers: [String: String] = [:]
        var body = Data()
        var breaksAfterBody = false
        var fails: TransportFailure? = nil
    }

    private let replies: Mutex<[Reply]>
    private let sent = Mutex<[HTTPRequest]>([])

    init(_ replies: [Reply]) { self.replies = Mutex(replies) }

    /// The requests sent so far.
    var requests: [HTTPRequest] { sent.withLock { $0 } }

    func send(_ request: HTTPRequest, into destination: @escaping @Sendable () -> ResponseDestination) async throws
        -> HTTPResponse
    {
        sent.withLock { $0.append(request) }
        guard let reply = replies.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else {
            throw RegistryError.protocolViolation("the script has no reply for \(request.method) \(request.url)")
        }
        if let kind = reply.fails {
            throw RegistryError.transport(url: request.url, message: "scripted failure", kind: kind)
        }
        var response = HTTPResponse(
            status: reply.status, headers: reply.headers.reduce(into: [:]) { $0[$1.key.lowercased()] = [$1.value] },
            body: Data())
        if case .stream(let write) = destination(), (200..<300).contains(reply.status) {
            try reply.body.withUnsafeBytes { try write(reply.status, $0) }
        } else {
            response.body = reply.body
        }
        if reply.breaksAfterBody {
            throw RegistryError.transport(url: request.url, message: "Connection reset by peer")
        }
        return response
    }
}
