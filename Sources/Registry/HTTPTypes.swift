import Foundation
import OCI

/// An HTTP request as the registry client builds it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Body
    /// How long the request may wait for a connection, a reply and moving bytes.
    public var timeouts: TransferTimeouts

    /// What a request sends.
    public enum Body: Sendable {
        case none
        case data(Data)
        /// `length` bytes of a file starting at `offset`, streamed from disk.
        case file(path: String, offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .none: return 0
            case .data(let data): return Int64(data.count)
            case .file(_, _, let length): return length
            }
        }
    }

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: Body = .none,
        timeouts: TransferTimeouts = TransferTimeouts()
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }

    /// The value of a header, case-insensitively.
    func header(_ name: String) -> String? {
        headers.last { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    mutating func setHeader(_ name: String, _ value: String?) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        if let value { headers.append((name, value)) }
    }
}

/// A response: status, headers (names lowercased), and the body when it was collected in memory.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: [String]]
    public var body: Data
    /// Set by the registry client when the reply came from another host after a redirect (blob storage).
    var fromRedirect = false

    public func header(_ name: String) -> String? { headers[name.lowercased()]?.last }
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Where a response body goes: memory (documents, errors) or a byte sink (blobs).
public enum ResponseDestination {
    case memory(limit: Int)
    /// Bytes of a successful (2xx) response go to `write` with the status; other statuses are collected in memory.
    case stream((_ status: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void)
}

/// What the registry client sends requests through: libcurl in production (`CurlTransport`), a scripted
/// transport in tests of the retry, token, redirect and resume rules.
public protocol HTTPTransport: Sendable {
    /// Performs one request (no redirects followed, no retries) without blocking the caller's thread.
    /// - Parameter destination: where a response body goes; called once per attempt.
    func send(_ request: HTTPRequest, into destination: @escaping @Sendable () -> ResponseDestination) async throws
        -> HTTPResponse
}

extension HTTPTransport {
    /// Performs a request whose body (at most 16 MiB) is collected in memory.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await send(request, into: { .memory(limit: 16 << 20) })
    }
}
