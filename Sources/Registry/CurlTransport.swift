import CCurl
import Foundation
import OCI
import Synchronization

/// HTTP/1.1 through libcurl. Each request borrows an easy handle from a pool, so connections are reused and
/// several transfers run at once on separate connections. Redirects are not followed here: the registry client
/// follows them itself so it can drop `Authorization` when the host changes.
///
/// Blocking transfers run through `Blocking.run`, never on Swift's cooperative pool.
public final class CurlTransport: HTTPTransport {
    private let pool = HandlePool()
    /// The CA bundle to verify servers with (`SSL_CERT_FILE`); nil: libcurl's default.
    private let caBundle: String?
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    public init(caBundle: String? = nil) {
        self.caBundle = caBundle
    }

    public func send(_ request: HTTPRequest, into destination: @escaping @Sendable () -> ResponseDestination)
        async throws -> HTTPResponse
    {
        try await Blocking.run { try self.perform(request, into: destination()) }
    }

    /// Performs a request on the calling thread.
    public func perform(_ request: HTTPRequest, into destination: ResponseDestination) throws -> HTTPResponse {
        try CurlCall.check(Self.globalInit, "initialise libcurl")
        let handle = try pool.checkout()
        defer { pool.checkin(handle) }
        return try handle.perform(request, destination: destination, caBundle: caBundle)
    }
}

/// The one checker for libcurl results.
enum CurlCall {
    static func check(_ code: CURLcode, _ what: String, url: String = "(libcurl)", detail: String = "") throws {
        guard code != CURLE_OK else { return }
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        throw RegistryError.transport(url: url, message: "\(what): \(message)")
    }
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

/// The state one transfer's callbacks share.
private final class TransferContext {
    var headers: [String: [String]] = [:]
    var status = 0
    var body = Data()
    var limit = 16 << 20
    var stream: ((Int, UnsafeRawBufferPointer) throws -> Void)?
    var error: Error?
    var upload: FileStream?
    var uploadData: Data?
    var uploadOffset = 0
    var uploadRemaining: Int64 = 0
}

/// One libcurl easy handle, used by one thread at a time (the pool hands it out).
private final class EasyHandle {
    private var handle: UnsafeMutableRawPointer?
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init() throws {
        handle = curl_easy_init()
        guard handle != nil else {
            throw RegistryError.transport(
                url: "(libcurl)", message: "could not create a transfer handle (out of memory)")
        }
    }

    deinit { curl_easy_cleanup(handle) }

    func perform(_ request: HTTPRequest, destination: ResponseDestination, caBundle: String?) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let context = TransferContext()
        switch destination {
        case .memory(let limit): context.limit = limit
        case .stream(let write): context.stream = write
        }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        headerList = curl_slist_append(headerList, "Expect:")  // no 100-continue round trip
        if request.header("User-Agent") == nil {
            headerList = curl_slist_append(headerList, "User-Agent: cog-daemonless")
        }

        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headerList))
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_CONNECTTIMEOUT, 30)
        // Larger buffers than libcurl's 16/64 KiB defaults: fewer callbacks and syscalls on multi-GB blobs.
        try set(CURLOPT_BUFFERSIZE, 512 << 10)
        try set(CURLOPT_UPLOAD_BUFFERSIZE, 2 << 20)
        // A stalled transfer (under 1 byte/s for 120 s) fails; a slow but moving one never does.
        try set(CURLOPT_LOW_SPEED_LIMIT, 1)
        try set(CURLOPT_LOW_SPEED_TIME, 120)
        try set(
            CURLOPT_ERRORBUFFER,
            pointer: errorBuffer.withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress) })
        if let caBundle, FileSystem.exists(caBundle) { try set(CURLOPT_CAINFO, caBundle) }
        if request.method == "HEAD" {
            try set(CURLOPT_NOBODY, 1)
        } else if request.method != "GET" {
            try set(CURLOPT_UPLOAD, 1)
            try set(CURLOPT_CUSTOMREQUEST, request.method)
            try setOffset(CURLOPT_INFILESIZE_LARGE, request.body.length)
            switch request.body {
            case .none: break
            case .data(let data): context.uploadData = data
            case .file(let path, let offset, let length):
                let file = try FileStream.openForReading(path)
                try file.seek(to: offset)
                context.upload = file
                context.uploadRemaining = length
            }
            try set(CURLOPT_READDATA, pointer: Unmanaged.passUnretained(context).toOpaque())
            try CurlCall.check(
                cog_curl_setopt_read(handle, CURLOPT_READFUNCTION, readCallback), "set the upload reader")
        }
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        try set(CURLOPT_HEADERDATA, pointer: opaque)
        try CurlCall.check(
            cog_curl_setopt_write(handle, CURLOPT_HEADERFUNCTION, headerCallback), "set the header reader")
        try set(CURLOPT_WRITEDATA, pointer: opaque)
        try CurlCall.check(cog_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION, writeCallback), "set the body writer")

        let code = withExtendedLifetime(context) { curl_easy_perform(handle) }
        if let error = context.error { throw error }
        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw RegistryError.transport(
                url: redact(request.url), message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        try CurlCall.check(
            cog_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "read the response status",
            url: redact(request.url))
        return HTTPResponse(status: status, headers: context.headers, body: context.body)
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try CurlCall.check(cog_curl_setopt_long(handle, option, value), "set option \(option.rawValue)")
    }
    private func set(_ option: CURLoption, _ value: String) throws {
        try CurlCall.check(cog_curl_setopt_string(handle, option, value), "set option \(option.rawValue)")
    }
    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws {
        try CurlCall.check(cog_curl_setopt_pointer(handle, option, pointer), "set option \(option.rawValue)")
    }
    private func setOffset(_ option: CURLoption, _ value: Int64) throws {
        try CurlCall.check(cog_curl_setopt_offset(handle, option, curl_off_t(value)), "set option \(option.rawValue)")
    }
}

/// Drops the query (it may carry upload state or signed tokens) from URLs shown to people.
func redact(_ url: String) -> String {
    guard let question = url.firstIndex(of: "?") else { return url }
    return String(url[..<question]) + "?…"
}

private let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    guard let data else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        context.headers = [:]  // a new response (after a redirect or 100-continue) starts over
        let parts = line.split(separator: " ")
        if parts.count > 1, let status = Int(parts[1]) { context.status = status }
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        context.headers[name, default: []].append(value)
    }
    return length
}

private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    guard let data else { return length }
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    if let stream = context.stream, (200..<300).contains(context.status) {
        do { try stream(context.status, bytes) } catch {
            context.error = error
            return 0  // aborts the transfer
        }
    } else {
        guard context.body.count + length <= context.limit else {
            context.error = RegistryError.protocolViolation("response body larger than \(context.limit) bytes")
            return 0
        }
        context.body.append(contentsOf: bytes)
    }
    return length
}

private let readCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    buffer, size, count, user in
    let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    guard let buffer else { return 0 }
    let capacity = size * count
    if let data = context.uploadData {
        let take = min(capacity, data.count - context.uploadOffset)
        guard take > 0 else { return 0 }
        data.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + context.uploadOffset, byteCount: take)
        }
        context.uploadOffset += take
        return take
    }
    guard let file = context.upload, context.uploadRemaining > 0 else { return 0 }
    let want = Int(min(Int64(capacity), context.uploadRemaining))
    do {
        let got = try file.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: want))
        context.uploadRemaining -= Int64(got)
        return got
    } catch {
        context.error = error
        return Int(CURL_READFUNC_ABORT)
    }
}
