import CCurl
import Foundation
import OCI

/// One libcurl easy handle, used by one thread at a time (the pool hands it out).
final class EasyHandle {
    private var handle: UnsafeMutableRawPointer?
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    private let socket = SocketTracker()

    init() throws {
        handle = curl_easy_init()
        guard handle != nil else {
            throw RegistryError.transport(
                url: "(libcurl)", message: "could not create a transfer handle (out of memory)")
        }
    }

    deinit { curl_easy_cleanup(handle) }

    func perform(_ request: HTTPRequest, destination: ResponseDestination, caBundle: String?, cancel: CancelFlag)
        throws -> HTTPResponse
    {
        curl_easy_reset(handle)
        let context = TransferContext(
            url: redact(request.url), timeouts: request.timeouts, bodyLength: request.body.length, cancel: cancel,
            handle: handle, socket: socket)
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
        errorBuffer[0] = 0

        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headerList))
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(request.timeouts.connect * 1000))
        // Larger buffers than libcurl's 16/64 KiB defaults: fewer callbacks and syscalls on multi-GB blobs.
        try set(CURLOPT_BUFFERSIZE, 512 << 10)
        try set(CURLOPT_UPLOAD_BUFFERSIZE, 2 << 20)
        try set(
            CURLOPT_ERRORBUFFER,
            pointer: errorBuffer.withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress) })
        if let caBundle { try set(CURLOPT_CAINFO, caBundle) }
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
                cog_curl_setopt_read(handle, CURLOPT_READFUNCTION, TransferContext.readCallback),
                "set the upload reader")
        }
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        try set(CURLOPT_HEADERDATA, pointer: opaque)
        try CurlCall.check(
            cog_curl_setopt_write(handle, CURLOPT_HEADERFUNCTION, TransferContext.headerCallback),
            "set the header reader")
        try set(CURLOPT_WRITEDATA, pointer: opaque)
        try CurlCall.check(
            cog_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION, TransferContext.writeCallback), "set the body writer")
        // The reply and stall limits, and cancellation, are checked by the progress callback (about once a second
        // even when nothing moves): libcurl's own low-speed limit cannot tell a server that never answers from a
        // registry still hashing the multi-GB blob it was just sent.
        // One connection per handle, its socket followed, so the progress callback can see how much of a body
        // still waits in the socket's send queue.
        try set(CURLOPT_MAXCONNECTS, 1)
        let tracker = Unmanaged.passUnretained(socket).toOpaque()
        try set(CURLOPT_SOCKOPTDATA, pointer: tracker)
        try CurlCall.check(
            cog_curl_setopt_sockopt(handle, CURLOPT_SOCKOPTFUNCTION, SocketTracker.opened), "set the socket callback")
        try set(CURLOPT_CLOSESOCKETDATA, pointer: tracker)
        try CurlCall.check(
            cog_curl_setopt_closesocket(handle, CURLOPT_CLOSESOCKETFUNCTION, SocketTracker.closing),
            "set the socket close callback")
        try set(CURLOPT_NOPROGRESS, 0)
        try set(CURLOPT_XFERINFODATA, pointer: opaque)
        try CurlCall.check(
            cog_curl_setopt_xferinfo(handle, CURLOPT_XFERINFOFUNCTION, TransferContext.progressCallback),
            "set the progress callback")

        let code = withExtendedLifetime(context) { curl_easy_perform(handle) }
        if let error = context.error { throw error }
        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw RegistryError.transport(
                url: redact(request.url), message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail,
                kind: TransportFailure(code))
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
