import CCurl
import Foundation
import OCI
import Synchronization

/// HTTP/1.1 through libcurl. Each request borrows an easy handle from a pool, so connections are reused and
/// several transfers run at once on separate connections. Redirects are not followed here: the registry client
/// follows them itself so it can drop `Authorization` when the host changes.
///
/// Blocking transfers run through `Blocking.run`, never on Swift's cooperative pool; cancelling the calling task
/// aborts the transfer.
public final class CurlTransport: HTTPTransport {
    private let pool = HandlePool()
    /// The CA bundle to verify servers with (`SSL_CERT_FILE`); nil: libcurl's default.
    private let caBundle: String?
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    public init(caBundle: String? = nil) {
        self.caBundle = caBundle.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func send(_ request: HTTPRequest, into destination: @escaping @Sendable () -> ResponseDestination)
        async throws -> HTTPResponse
    {
        let cancel = CancelFlag()
        return try await withTaskCancellationHandler {
            try await Blocking.run { try self.perform(request, into: destination(), cancel: cancel) }
        } onCancel: {
            cancel.set()
        }
    }

    /// Performs a request on the calling thread.
    public func perform(_ request: HTTPRequest, into destination: ResponseDestination) throws -> HTTPResponse {
        try perform(request, into: destination, cancel: CancelFlag())
    }

    private func perform(_ request: HTTPRequest, into destination: ResponseDestination, cancel: CancelFlag) throws
        -> HTTPResponse
    {
        try CurlCall.check(Self.globalInit, "initialise libcurl")
        if let caBundle, request.url.hasPrefix("https://"), !FileSystem.exists(caBundle) {
            throw RegistryError.transport(
                url: redact(request.url), message: "SSL_CERT_FILE names \(caBundle), which does not exist",
                kind: .caBundle)
        }
        let handle = try pool.checkout()
        // A handle whose transfer failed is dropped, never pooled: libcurl can keep per-transfer state on it after
        // an error (7.88 keeps its receive buffer after a failed name lookup, and then refuses
        // CURLOPT_BUFFERSIZE on the next request with "a libcurl function was given a bad argument").
        let response = try handle.perform(request, destination: destination, caBundle: caBundle, cancel: cancel)
        pool.checkin(handle)
        return response
    }
}

/// The one checker for libcurl results.
enum CurlCall {
    static func check(_ code: CURLcode, _ what: String, url: String = "(libcurl)", detail: String = "") throws {
        guard code != CURLE_OK else { return }
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        throw RegistryError.transport(url: url, message: "\(what): \(message)", kind: TransportFailure(code))
    }
}

/// Set when the task that started a transfer is cancelled; the transfer's progress callback then aborts it.
final class CancelFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// Idle easy handles; each keeps its connections alive between requests.
private final class HandlePool: Sendable {
    /// Handles are used by one thread at a time: the pool hands each out to one caller.
    private struct Idle: @unchecked Sendable { var handles: [EasyHandle] = [] }
    private let idle = Mutex(Idle())

    func checkout() throws -> EasyHandle {
        if let handle = idle.withLock({ $0.handles.popLast() }) { return handle }
        return try EasyHandle()
    }

    func checkin(_ handle: EasyHandle) {
        idle.withLock { if $0.handles.count < 16 { $0.handles.append(handle) } }
    }
}

/// Drops the query (it may carry upload state or signed tokens) from URLs shown to people.
func redact(_ url: String) -> String {
    guard let question = url.firstIndex(of: "?") else { return url }
    return String(url[..<question]) + "?…"
}
