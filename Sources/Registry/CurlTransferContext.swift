import CCurl
import Foundation
import OCI

/// The state one transfer's callbacks share, and the clock that enforces its reply and stall limits.
final class TransferContext {
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

    private let url: String
    private let timeouts: TransferTimeouts
    private let bodyLength: Int64
    private let cancel: CancelFlag
    private let handle: UnsafeMutableRawPointer?
    private let socket: SocketTracker
    private var connected = false
    private let started: Double
    private var sentAt: Double?
    private var replyStarted = false
    private var lastActivity: Double
    private var lastUploaded: Int64 = 0
    private var lastDownloaded: Int64 = 0
    private var lastQueued = 0

    init(
        url: String, timeouts: TransferTimeouts, bodyLength: Int64, cancel: CancelFlag,
        handle: UnsafeMutableRawPointer?, socket: SocketTracker
    ) {
        self.socket = socket
        self.url = url
        self.timeouts = timeouts
        self.bodyLength = bodyLength
        self.cancel = cancel
        self.handle = handle
        started = Self.now()
        lastActivity = started
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Whether the transfer may go on; when not, `error` says why.
    func mayContinue(uploaded: Int64, downloaded: Int64) -> Bool {
        if cancel.isSet {
            error = CancellationError()
            return false
        }
        let now = Self.now()
        if uploaded != lastUploaded || downloaded != lastDownloaded {
            (lastUploaded, lastDownloaded, lastActivity) = (uploaded, downloaded, now)
        }
        if !connected {
            // Until the request is about to go out, libcurl's connect timeout (lookup, TCP, TLS) is the limit; past
            // it, the connection is up whatever the timer says.
            var pretransfer: curl_off_t = 0
            let code = cog_curl_getinfo_offset(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
            guard (code == CURLE_OK && pretransfer > 0) || now - started > timeouts.connect else { return true }
            (connected, lastActivity) = (true, now)
        }
        if replyStarted || uploaded < bodyLength { return withinStallLimit(now) }
        // libcurl has handed over the whole body, but over a slow link megabytes of it can still sit in the
        // socket's send queue: until the peer has acknowledged every byte the request is still going out.
        if bodyLength > 0, let queued = unacknowledgedBytes(), queued > 0 {
            if queued != lastQueued { (lastQueued, lastActivity) = (queued, now) }
            sentAt = nil
            return withinStallLimit(now)
        }
        // The request is out and nothing has come back yet: the reply limit, longer after a big body.
        let sent = sentAt ?? now
        sentAt = sent
        if let limit = timeouts.replyLimit(afterSending: bodyLength), now - sent > limit {
            error = RegistryError.transport(
                url: url, message: "no reply", kind: .noReply(seconds: Int(limit.rounded(.up))))
            return false
        }
        return true
    }

    /// Bytes written to the connection's socket that the peer has not acknowledged (Linux `SIOCOUTQ`).
    private func unacknowledgedBytes() -> Int? {
        guard socket.descriptor >= 0 else { return nil }
        var queued: Int32 = 0
        guard ioctl(socket.descriptor, UInt(TIOCOUTQ), &queued) == 0 else { return nil }
        return Int(queued)
    }

    private func withinStallLimit(_ now: Double) -> Bool {
        guard let stall = timeouts.stall, now - lastActivity > stall else { return true }
        error = RegistryError.transport(
            url: url, message: "no bytes moved", kind: .stalled(seconds: Int(stall.rounded(.up))))
        return false
    }

    func headerArrived(_ line: String) {
        replyStarted = true
        lastActivity = Self.now()
        if line.hasPrefix("HTTP/") {
            headers = [:]  // a new response (after a redirect or 100-continue) starts over
            let parts = line.split(separator: " ")
            if parts.count > 1, let status = Int(parts[1]) { self.status = status }
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name, default: []].append(value)
        }
    }

    // MARK: libcurl callbacks

    static let headerCallback:
        @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int =
            { data, size, count, user in
                let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
                let length = size * count
                guard let data else { return length }
                context.headerArrived(
                    String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                        .trimmingCharacters(in: .whitespacesAndNewlines))
                return length
            }

    static let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int =
        { data, size, count, user in
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
                    context.error = RegistryError.protocolViolation(
                        "response body larger than \(context.limit) bytes from \(context.url)")
                    return 0
                }
                context.body.append(contentsOf: bytes)
            }
            return length
        }

    static let readCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int =
        { buffer, size, count, user in
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            guard let buffer else { return 0 }
            let capacity = size * count
            if let data = context.uploadData {
                let take = min(capacity, data.count - context.uploadOffset)
                guard take > 0 else { return 0 }
                data.withUnsafeBytes { raw in
                    UnsafeMutableRawPointer(buffer).copyMemory(
                        from: raw.baseAddress! + context.uploadOffset, byteCount: take)
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

    static let progressCallback:
        @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = {
            user, _, downloaded, _, uploaded in
            let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
            return context.mayContinue(uploaded: Int64(uploaded), downloaded: Int64(downloaded)) ? 0 : 1
        }
}

/// The socket of an easy handle's one connection (the handle keeps at most one), followed through libcurl's
/// socket callbacks: libcurl only reveals a connection's socket after the transfer.
final class SocketTracker {
    var descriptor: Int32 = -1

    static let opened: @convention(c) (UnsafeMutableRawPointer?, curl_socket_t, curlsocktype) -> Int32 = {
        user, socket, purpose in
        if purpose == CURLSOCKTYPE_IPCXN {
            Unmanaged<SocketTracker>.fromOpaque(user!).takeUnretainedValue().descriptor = socket
        }
        return Int32(CURL_SOCKOPT_OK)
    }

    static let closing: @convention(c) (UnsafeMutableRawPointer?, curl_socket_t) -> Int32 = { user, socket in
        let tracker = Unmanaged<SocketTracker>.fromOpaque(user!).takeUnretainedValue()
        if tracker.descriptor == socket { tracker.descriptor = -1 }
        return close(socket)
    }
}
