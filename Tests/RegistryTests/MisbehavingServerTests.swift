import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// Over the wire, against testdata/registry/bad-server.py: servers that never answer, answer with a web page,
/// with another protocol, with 200 to everything, or slowly. Each ends in a clear error within a bounded time,
/// or, when bytes keep moving, in success.
@Suite(.serialized) struct MisbehavingServerTests {
    /// Short limits so each case takes seconds; the rules are the same as with the defaults.
    static let settings = RegistrySettings(
        retry: RetryPolicy(maxAttempts: 4, maxAttemptsUnanswered: 3, initialDelay: 0.01, maxDelay: 0.05),
        concurrency: 2, timeouts: TransferTimeouts(connect: 5, reply: 1.5, replyPerGiBSent: 20, stall: 3))

    static func server(_ mode: String, _ extra: [String] = []) throws -> BackgroundProcess {
        try BackgroundProcess(
            ["python3", "\(packageRoot)/testdata/registry/bad-server.py", "--dir", "{DIR}", "--mode", mode] + extra,
            label: "bad-\(mode)")
    }

    /// Requests (or, for `garbage`, connections) the server saw.
    static func requests(_ server: BackgroundProcess) -> [[String: Any]] {
        server.log.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func transfer(_ progress: TransferProgress = SilentProgress()) -> ImageTransfer {
        ImageTransfer(
            settings: settings, credentials: DockerConfig(environment: ["DOCKER_CONFIG": "/nonexistent"]),
            progress: progress)
    }

    @Test func aServerThatNeverAnswersFailsAfterAFewTriesSayingSo() async throws {
        let server = try Self.server("silent")
        let progress = RecordingProgress()
        let reference = try ImageReference(parsing: "127.0.0.1:\(server.port)/silent/app:v1")
        let dir = try TemporaryDirectory("silent")
        let error = try await registryError {
            _ = try await Self.transfer(progress).pull(reference, into: BlobStore(root: dir.path))
        }
        guard case .transport(_, _, .noReply(let seconds)) = error else {
            Issue.record("expected no reply, got \(error)")
            return
        }
        #expect(seconds == 2)
        #expect("\(error)".contains("accepted the connection but sent no reply"), "\(error)")
        // Three attempts, the retries reported as they happen.
        #expect(Self.requests(server).count == 3, "\(server.log)")
        #expect(progress.retries == 2, "\(progress.retryReasons)")
    }

    @Test func aPushToAServerThatNeverAnswersEndsToo() async throws {
        let server = try Self.server("silent")
        let dir = try TemporaryDirectory("silent-push")
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 16, small: 1)
        let reference = try ImageReference(parsing: "127.0.0.1:\(server.port)/silent/app:v1")
        let error = try await registryError {
            try await Self.transfer().push(image, from: layout.blobs, to: reference)
        }
        #expect("\(error)".contains("sent no reply"), "\(error)")
    }

    @Test func aWebServerIsNotARegistry() async throws {
        let server = try Self.server("html")
        let dir = try TemporaryDirectory("html")
        let reference = try ImageReference(parsing: "127.0.0.1:\(server.port)/web/app:v1")
        let error = try await registryError {
            _ = try await Self.transfer().pull(reference, into: BlobStore(root: dir.path))
        }
        let text = "\(error)"
        #expect(text.contains("HTTP 404 from 127.0.0.1:\(server.port): not a container registry"), "\(text)")
        #expect(text.contains("an HTML page titled \"404 Not Found\""), "\(text)")
        #expect(!text.contains("<center>"), "\(text)")
    }

    /// A wrong port where another protocol answers: no HTTP at all, so nothing to retry.
    @Test func anotherProtocolIsReportedAtOnce() async throws {
        let server = try Self.server("garbage")
        let dir = try TemporaryDirectory("garbage")
        let reference = try ImageReference(parsing: "127.0.0.1:\(server.port)/ssh/app:v1")
        let error = try await registryError {
            _ = try await Self.transfer().pull(reference, into: BlobStore(root: dir.path))
        }
        #expect("\(error)".contains("did not answer in HTTP"), "\(error)")
        #expect(Self.requests(server).count == 1, "\(server.log)")
    }

    @Test func aPortNobodyListensOnIsRetriedThenReported() async throws {
        let port = try LoopbackPort.unused()
        let progress = RecordingProgress()
        let dir = try TemporaryDirectory("refused")
        let reference = try ImageReference(parsing: "127.0.0.1:\(port)/none/app:v1")
        let error = try await registryError {
            _ = try await Self.transfer(progress).pull(reference, into: BlobStore(root: dir.path))
        }
        #expect("\(error)".contains("cannot connect to 127.0.0.1:\(port)"), "\(error)")
        #expect(progress.retries == Self.settings.retry.maxAttempts - 1)
    }

    @Test func aNameThatDoesNotResolveSaysSo() async throws {
        // .invalid never resolves (RFC 6761). Retried, so a second attempt reuses the transport's handles: the
        // resolver's message must survive that.
        let dir = try TemporaryDirectory("dns")
        let reference = try ImageReference(parsing: "no-such-registry.invalid/app:v1")
        let error = try await registryError {
            _ = try await Self.transfer().pull(reference, into: BlobStore(root: dir.path))
        }
        #expect("\(error)".contains("no-such-registry.invalid: the name does not resolve"), "\(error)")
        #expect(!"\(error)".contains("bad argument"), "\(error)")
    }

    /// A server that answers 200 to everything: a push must not claim an image was stored.
    @Test func twoHundredToEverythingIsNeverAPush() async throws {
        let server = try Self.server("ok")
        let dir = try TemporaryDirectory("ok")
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 16, small: 1)
        let reference = try ImageReference(parsing: "127.0.0.1:\(server.port)/ok/app:v1")
        let error = try await registryError {
            try await Self.transfer().push(image, from: layout.blobs, to: reference)
        }
        #expect("\(error)".contains("answered 200 with Content-Length 18"), "\(error)")
        #expect("\(error)".contains("does not behave as a container registry"), "\(error)")
        let pullError = try await registryError {
            _ = try await Self.transfer().pull(reference, into: BlobStore(root: "\(dir.path)/pulled"))
        }
        #expect("\(pullError)".contains("not a manifest"), "\(pullError)")
    }

    /// 2 MiB in 64 KiB steps a fifth of a second apart: longer than the reply and stall limits, and never killed.
    @Test(arguments: ["download", "upload"])
    func aSlowButMovingTransferIsNeverKilled(direction: String) async throws {
        let dir = try TemporaryDirectory("trickle")
        let blob = Data((0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        let file = "\(dir.path)/blob"
        try blob.write(to: URL(fileURLWithPath: file))
        let descriptor = Descriptor(mediaType: .imageLayer, digest: try .sha256(blob), size: Int64(blob.count))
        let server = try Self.server(
            "trickle",
            ["--blob", direction == "download" ? file : "/dev/null", "--chunk", "65536", "--interval", "0.2"])
        let progress = RecordingProgress()
        let client = RegistryClient(
            registry: "127.0.0.1:\(server.port)", credentials: nil, settings: Self.settings, http: CurlTransport(),
            progress: progress)
        let store = BlobStore(root: "\(dir.path)/store")
        do {
            if direction == "download" {
                try await withinBound(300) {
                    try await client.getBlob(
                        repository: "slow/app", descriptor: descriptor, into: store, progress: progress)
                }
                try store.verify(descriptor.digest, size: descriptor.size)
            } else {
                #expect(try store.write(blob) == descriptor.digest)
                let how = try await withinBound(300) {
                    try await client.pushBlob(
                        repository: "slow/app", descriptor: descriptor, from: store, progress: progress)
                }
                #expect(how == .uploaded)
            }
        } catch {
            Issue.record("\(error); retries: \(progress.retryReasons)")
        }
        #expect(progress.retries == 0, "\(progress.retryReasons)")
        #expect(Self.requests(server).filter { ["GET", "PUT"].contains($0["method"] as? String) }.count == 1)
    }

    @Test func aTransferThatStopsMidwayIsCalledStalled() async throws {
        let dir = try TemporaryDirectory("stall")
        let blob = Data(repeating: 7, count: 1 << 20)
        try blob.write(to: URL(fileURLWithPath: "\(dir.path)/blob"))
        let descriptor = Descriptor(mediaType: .imageLayer, digest: try .sha256(blob), size: Int64(blob.count))
        let server = try Self.server("stall", ["--blob", "\(dir.path)/blob", "--chunk", "1000"])
        let progress = RecordingProgress()
        let client = RegistryClient(
            registry: "127.0.0.1:\(server.port)", credentials: nil, settings: Self.settings, http: CurlTransport())
        let error = try await registryError {
            try await client.getBlob(
                repository: "slow/app", descriptor: descriptor, into: BlobStore(root: "\(dir.path)/store"),
                progress: progress)
        }
        #expect("\(error)".contains("stalled: no bytes moved for 3 s"), "\(error)")
        #expect(progress.retries == Self.settings.retry.maxAttempts - 1)
    }
}

/// A loopback port with no listener.
enum LoopbackPort {
    static func unused() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestSetupError("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
