import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// Cog's push rules, against a scripted registry: the `OCI-Layer-Media-Type` header on the request that commits an
/// upload, and the chunk sizes a registry asks for in `OCI-Chunk-Min-Length` / `OCI-Chunk-Max-Length`.
@Suite struct PushParityTests {
    typealias Reply = ScriptedTransport.Reply
    static let blob = ReplyRulesTests.blob
    static let descriptor = ReplyRulesTests.descriptor
    static let stored = Reply(
        status: 201, headers: ["Location": "/v2/app/blobs/x", "Docker-Content-Digest": descriptor.digest.description])

    static func store() throws -> (TemporaryDirectory, BlobStore) {
        let dir = try TemporaryDirectory("push-parity")
        let store = BlobStore(root: dir.path)
        _ = try store.write(blob)
        return (dir, store)
    }

    static func client(_ transport: ScriptedTransport, chunkThreshold: Int64, chunkSize: Int64) -> RegistryClient {
        var settings = TransportRulesTests.settings
        settings.chunkThreshold = chunkThreshold
        settings.chunkSize = chunkSize
        return RegistryClient(registry: "registry.test", credentials: nil, settings: settings, http: transport)
    }

    @Test(arguments: [Int64(1 << 20), 4])
    func theLayerMediaTypeGoesWithTheCommitOnly(threshold: Int64) async throws {
        let (dir, store) = try Self.store()
        defer { withExtendedLifetime(dir) {} }
        let chunked = threshold < Int64(Self.blob.count)
        let transport = ScriptedTransport(
            [Reply(status: 404), Reply(status: 202, headers: ["Location": "/v2/app/blobs/uploads/1"])]
                + (chunked ? [Reply(status: 202, headers: ["Location": "/v2/app/blobs/uploads/1"])] : [])
                + [Self.stored])
        let client = Self.client(transport, chunkThreshold: threshold, chunkSize: 1 << 20)
        let how = try await client.pushBlob(
            repository: "app", descriptor: Self.descriptor, from: store,
            layerMediaType: "application/vnd.cog.weight.layer.v1.tar")
        #expect(how == .uploaded)
        let requests = transport.requests
        #expect(requests.map(\.method) == ["HEAD", "POST"] + (chunked ? ["PATCH"] : []) + ["PUT"])
        #expect(requests.last?.header("OCI-Layer-Media-Type") == "application/vnd.cog.weight.layer.v1.tar")
        #expect(requests.dropLast().allSatisfy { $0.header("OCI-Layer-Media-Type") == nil })
    }

    /// The 18-byte blob in chunks: the registry's maximum wins over the configured size, its minimum over both.
    @Test(
        arguments: [
            (configured: Int64(8), minimum: "", maximum: "", ranges: ["0-7", "8-15", "16-17"]),
            (configured: 8, minimum: "", maximum: "5", ranges: ["0-4", "5-9", "10-14", "15-17"]),
            (configured: 3, minimum: "10", maximum: "", ranges: ["0-9", "10-17"]),
            (configured: 3, minimum: "7", maximum: "5", ranges: ["0-6", "7-13", "14-17"]),
        ] as [(configured: Int64, minimum: String, maximum: String, ranges: [String])])
    func chunksHonourTheRegistrysLimits(configured: Int64, minimum: String, maximum: String, ranges: [String])
        async throws
    {
        let (dir, store) = try Self.store()
        defer { withExtendedLifetime(dir) {} }
        var limits = ["Location": "/v2/app/blobs/uploads/1"]
        if !minimum.isEmpty { limits["OCI-Chunk-Min-Length"] = minimum }
        if !maximum.isEmpty { limits["OCI-Chunk-Max-Length"] = maximum }
        let patch = Reply(status: 202, headers: ["Location": "/v2/app/blobs/uploads/1"])
        let transport = ScriptedTransport(
            [Reply(status: 404), Reply(status: 202, headers: limits)] + ranges.map { _ in patch } + [Self.stored])
        let client = Self.client(transport, chunkThreshold: 4, chunkSize: configured)
        #expect(try await client.pushBlob(repository: "app", descriptor: Self.descriptor, from: store) == .uploaded)
        let patches = transport.requests.filter { $0.method == "PATCH" }
        #expect(patches.map { $0.header("Content-Range") ?? "" } == ranges)
        #expect(transport.requests.allSatisfy { $0.header("OCI-Layer-Media-Type") == nil })
    }

    @Test func aLargeMaximumKeepsCogsMargin() {
        #expect(ChunkLimits(maximum: 32 << 20).chunkSize(96 << 20) == (32 << 20) - (64 << 10))
        #expect(ChunkLimits(maximum: 1000).chunkSize(96 << 20) == 1000)
        #expect(ChunkLimits(minimum: 100 << 20).chunkSize(96 << 20) == 100 << 20)
        #expect(ChunkLimits().chunkSize(96 << 20) == 96 << 20)
    }
}
