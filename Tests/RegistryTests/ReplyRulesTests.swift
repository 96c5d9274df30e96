import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// What a reply must prove before the client believes it, and how each kind of failure is retried and reported,
/// each rule against a scripted transport.
@Suite struct ReplyRulesTests {
    typealias Reply = ScriptedTransport.Reply
    static let blob = Data("the layer's bytes\n".utf8)
    static let descriptor = Descriptor(mediaType: .imageLayer, digest: try! .sha256(blob), size: Int64(blob.count))
    static let other = try! Digest.sha256(Data("something else".utf8))

    /// The description of the error `body` throws, whatever its type.
    func registryErrorOrOther(_ body: @escaping @Sendable () async throws -> Void) async throws -> String {
        do {
            try await body()
        } catch {
            return "\(error)"
        }
        throw TestSetupError("expected an error, but it succeeded")
    }

    static func client(_ transport: ScriptedTransport, progress: TransferProgress = SilentProgress()) -> RegistryClient
    {
        RegistryClient(
            registry: "registry.test", credentials: nil, settings: TransportRulesTests.settings, http: transport,
            progress: progress)
    }

    enum Outcome: Sendable, CustomStringConvertible {
        case present
        case absent
        case error(String)
        var description: String {
            switch self {
            case .present: return "present"
            case .absent: return "absent"
            case .error(let text): return "error mentioning \(text)"
            }
        }
    }

    /// distribution-spec: a 200 to HEAD carries the blob's digest and size; only then is a push skipped.
    @Test(
        arguments: [
            (200, ["Content-Length": "18", "Docker-Content-Digest": descriptor.digest.description], Outcome.present),
            (200, ["Content-Length": "18"], .absent),  // no digest: proves nothing, upload again
            (200, ["Docker-Content-Digest": descriptor.digest.description], .absent),  // no size
            // A server answering 200 to everything: its 18 bytes of text are not an 89 MiB layer.
            (200, ["Content-Length": "99"], .error("Content-Length 99")),
            (200, ["Content-Length": "18", "Docker-Content-Digest": other.description], .error("digest mismatch")),
            (404, [:], .absent),
            (500, [:], .error("HTTP 500")),
        ] as [(Int, [String: String], Outcome)])
    func aHeadMustProveSizeAndDigest(status: Int, headers: [String: String], outcome: Outcome) async throws {
        let transport = ScriptedTransport(
            Array(
                repeating: Reply(status: status, headers: headers),
                count: TransportRulesTests.settings.retry.maxAttempts))
        let client = Self.client(transport)
        switch outcome {
        case .present, .absent:
            let present = try await client.blobExists(repository: "app", descriptor: Self.descriptor)
            #expect(present == (outcome.description == "present"))
        case .error(let text):
            let error = try await registryErrorOrOther {
                _ = try await client.blobExists(repository: "app", descriptor: Self.descriptor)
            }
            #expect(error.contains(text), "\(error)")
            #expect(error.contains(Self.descriptor.digest.encoded), "the message names the blob: \(error)")
        }
    }

    @Test func aHeadRedirectedToStorageProvesTheSizeAlone() async throws {
        let transport = ScriptedTransport([
            Reply(status: 307, headers: ["Location": "https://storage.test/blob?sig=x"]),
            Reply(status: 200, headers: ["Content-Length": "18", "ETag": "\"abc\""]),
        ])
        #expect(try await Self.client(transport).blobExists(repository: "app", descriptor: Self.descriptor))
    }

    /// The reply that closes an upload (after HEAD 404 and POST 202): what it must carry for the push to count.
    @Test(
        arguments: [
            (201, ["Location": "/v2/app/blobs/x", "Docker-Content-Digest": descriptor.digest.description], nil),
            (201, ["Location": "/v2/app/blobs/x"], nil),
            (204, ["Docker-Content-Digest": descriptor.digest.description], nil),
            (201, [:], "nothing shows the blob was stored"),
            (200, ["Content-Length": "18"], "answered 200 where a registry answers 201 Created"),
            (201, ["Location": "/v2/app/blobs/x", "Docker-Content-Digest": other.description], "digest mismatch"),
        ] as [(Int, [String: String], String?)])
    func anUploadMustEndInProof(status: Int, headers: [String: String], problem: String?) async throws {
        let dir = try TemporaryDirectory("proof")
        let store = BlobStore(root: dir.path)
        _ = try store.write(Self.blob)
        let transport = ScriptedTransport([
            Reply(status: 404),
            Reply(status: 202, headers: ["Location": "/v2/app/blobs/uploads/1"]),
            Reply(status: status, headers: headers),
        ])
        let push = {
            try await Self.client(transport).pushBlob(repository: "app", descriptor: Self.descriptor, from: store)
        }
        if let problem {
            await #expect { try await push() } throws: { "\($0)".contains(problem) }
        } else {
            #expect(try await push() == .uploaded)
        }
    }

    @Test func digestInvalidNamesTheBlobAndTheLocalFile() async throws {
        let dir = try TemporaryDirectory("digest-invalid")
        let store = BlobStore(root: dir.path)
        _ = try store.write(Self.blob)
        let transport = ScriptedTransport([
            Reply(status: 404),
            Reply(status: 202, headers: ["Location": "/v2/app/blobs/uploads/1"]),
            Reply(
                status: 400, headers: ["Content-Type": "application/json"],
                body: Data(
                    #"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#
                        .utf8)),
        ])
        let error = try await registryError {
            try await Self.client(transport).pushBlob(repository: "app", descriptor: Self.descriptor, from: store)
        }
        let text = "\(error)"
        #expect(text.contains("blob \(Self.descriptor.digest)"), "\(text)")
        #expect(text.contains(store.path(for: Self.descriptor.digest)), "\(text)")
        #expect(text.contains("DIGEST_INVALID"), "\(text)")
    }

    /// distribution-spec: a manifest PUT answers 201 Created with Location, and a digest equal to the one sent.
    @Test(
        arguments: [
            (201, ["Location": "/v2/app/manifests/sha256:x"], nil),
            (200, ["Docker-Content-Digest": "RIGHT"], nil),
            (200, [:], "nothing shows the manifest was stored"),
            (200, ["Content-Type": "text/plain", "Content-Length": "18"], "nothing shows the manifest was stored"),
            (201, ["Docker-Content-Digest": other.description], "digest mismatch"),
        ] as [(Int, [String: String], String?)])
    func aManifestPutMustProveTheDigest(status: Int, headers: [String: String], problem: String?) async throws {
        let data = TransportRulesTests.manifest
        let digest = try Digest.sha256(data)
        let replyHeaders = headers.mapValues { $0 == "RIGHT" ? digest.description : $0 }
        let transport = ScriptedTransport([Reply(status: status, headers: replyHeaders)])
        let put = {
            try await Self.client(transport).putManifest(
                repository: "app", reference: "v1", data: data, mediaType: .imageManifest)
        }
        if let problem {
            await #expect { try await put() } throws: { "\($0)".contains(problem) }
        } else {
            #expect(try await put() == digest)
        }
    }

    /// A complete reply (all of its Content-Length arrived) that leaves the blob short is about something else:
    /// an error at once, not a broken connection to resume.
    @Test func aCompleteButShortBlobIsNotRetried() async throws {
        let big = Data(repeating: 1, count: 10_000)
        let descriptor = Descriptor(mediaType: .imageLayer, digest: try .sha256(big), size: Int64(big.count))
        let transport = ScriptedTransport([
            Reply(status: 200, headers: ["Content-Length": "18"], body: Data("everything is fine".utf8))
        ])
        let dir = try TemporaryDirectory("short")
        await #expect {
            try await Self.client(transport).getBlob(
                repository: "app", descriptor: descriptor, into: BlobStore(root: dir.path))
        } throws: { "\($0)".contains("size mismatch") && "\($0)".contains("the reply was complete") }
        #expect(transport.requests.count == 1)
    }
}
