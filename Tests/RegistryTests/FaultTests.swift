import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// Through a proxy that answers 500 and 429, resets connections and cuts bodies short, every push and pull
/// still completes with every digest right.
@Suite(.serialized) struct FaultTests {
    func proxy(to registry: TestRegistry, faults: String) throws -> BackgroundProcess {
        try BackgroundProcess(
            [
                "python3", "\(packageRoot)/testdata/registry/fault-proxy.py", "--target", registry.address, "--dir",
                "{DIR}", "--faults", faults,
            ], label: "proxy")
    }

    struct LogLine: Decodable {
        let method: String?
        let path: String?
        let status: Int?
        let requestBytes: Int?
        let fault: String?
        let contentRange: String?
        enum CodingKeys: String, CodingKey {
            case method, path, status, fault
            case requestBytes = "request_bytes"
            case contentRange = "content_range"
        }
    }

    func logLines(_ proxy: BackgroundProcess) -> [LogLine] {
        proxy.log.compactMap { try? JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
    }

    @Test func pushAndPullSurviveErrorStatusesAndResets() async throws {
        let registry = try TestRegistry()
        let fault = try proxy(to: registry, faults: "status500:EVERY=4,status429:EVERY=7,reset-connect:EVERY=6")
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 3 << 20)
        let progress = RecordingProgress()
        let transfer = ImageTransfer(settings: testSettings(chunked: true), progress: progress)
        let reference = try ImageReference(parsing: "127.0.0.1:\(fault.port)/faulty/app:v1")
        let digest = try await transfer.push(image, from: layout.blobs, to: reference).digest
        #expect(digest == image.descriptor.digest)
        #expect(logLines(fault).contains { $0.fault == "status500" })
        #expect(logLines(fault).contains { $0.fault == "status429" })
        // Each retried status is reported, so a person waiting sees why.
        #expect(progress.retryReasons.contains { $0.contains("HTTP 500") }, "\(progress.retryReasons)")

        let store = BlobStore(root: "\(dir.path)/pulled")
        let pulled = try await transfer.pull(reference, into: store)
        for layer in pulled.manifest.layers { try store.verify(layer.digest, size: layer.size) }
        // The registry itself, without the proxy, holds exactly what we pushed.
        let copy = try runCommand([
            "skopeo", "copy", "--src-tls-verify=false", "docker://\(registry.address)/faulty/app:v1",
            "dir:\(dir.path)/check",
        ])
        #expect(copy.status == 0, "\(copy.output)")
    }

    @Test func chunkedUploadResumesFromTheRegistrysOffset() async throws {
        let registry = try TestRegistry()
        // Refused PATCHes never reach the registry: its session stays intact, and the client must continue from
        // the offset the registry confirms rather than from zero.
        let fault = try proxy(to: registry, faults: "status500:EVERY=5")
        let dir = try TemporaryDirectory()
        let size = (6 << 20) + 777
        let (layout, image) = try makeTestImage(in: dir, bigSize: size, small: 0)
        let reference = try ImageReference(parsing: "127.0.0.1:\(fault.port)/resume/app:v1")
        try await ImageTransfer(settings: testSettings(chunked: true)).push(image, from: layout.blobs, to: reference)
        let patches = logLines(fault).filter { $0.method == "PATCH" }
        let forwarded = patches.filter { $0.fault == nil }.reduce(0) { $0 + ($1.requestBytes ?? 0) }
        #expect(patches.contains { $0.fault == "status500" })
        // Every byte of the big layer crossed to the registry exactly once.
        #expect(forwarded == Int(image.manifest.layers[0].size), "\(patches)")
    }

    @Test func brokenUploadIsRestartedAndCompletes() async throws {
        let registry = try TestRegistry()
        // The connection dies after 1.5 MB of a body; distribution 2.8 then drops the session (it cannot resume
        // a truncated PATCH), so the client must notice and start a fresh upload.
        let fault = try proxy(to: registry, faults: "reset-upload:AFTER=1500000")
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 4 << 20, small: 1)
        let reference = try ImageReference(parsing: "127.0.0.1:\(fault.port)/broken/app:v1")
        try await ImageTransfer(settings: testSettings()).push(image, from: layout.blobs, to: reference)
        #expect(logLines(fault).contains { $0.fault == "reset-upload" })
        let inspect = try runCommand([
            "skopeo", "inspect", "--tls-verify=false", "docker://\(registry.address)/broken/app:v1",
        ])
        #expect(inspect.status == 0, "\(inspect.output)")
    }

    @Test func cutDownloadResumesWithRange() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 3 << 20)
        try await ImageTransfer(settings: testSettings()).push(
            image, from: layout.blobs, to: try ImageReference(parsing: "\(registry.address)/cut/app:v1"))
        let fault = try proxy(to: registry, faults: "cut-download:AFTER=1000000")
        let store = BlobStore(root: "\(dir.path)/pulled")
        let pulled = try await ImageTransfer(settings: testSettings()).pull(
            try ImageReference(parsing: "127.0.0.1:\(fault.port)/cut/app:v1"), into: store)
        for layer in pulled.manifest.layers { try store.verify(layer.digest, size: layer.size) }
        let lines = logLines(fault)
        #expect(lines.contains { $0.fault == "cut-download" })
        // The resumed request asked only for the rest.
        let ranged = proxyRanges(fault)
        #expect(ranged.contains("bytes=1000000-"), "\(ranged)")
    }

    func proxyRanges(_ proxy: BackgroundProcess) -> [String] {
        struct Ranged: Decodable { let range: String? }
        return proxy.log.compactMap { try? JSONDecoder().decode(Ranged.self, from: Data($0.utf8)).range }
    }
}
