import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// The registry client's rules, each against a scripted transport: which replies are retried and how often,
/// how a token is fetched and used, when credentials follow a redirect, how a broken download resumes.
@Suite struct TransportRulesTests {
    typealias Reply = ScriptedTransport.Reply
    static let settings = RegistrySettings(retry: RetryPolicy(maxAttempts: 4, initialDelay: 0.001, maxDelay: 0.002))
    static let manifest = Data(
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#
            .utf8)

    static func client(_ transport: ScriptedTransport, credentials: Credentials? = nil) -> RegistryClient {
        RegistryClient(registry: "registry.test", credentials: credentials, settings: settings, http: transport)
    }

    static func manifestReply(status: Int = 200) -> Reply {
        Reply(status: status, headers: ["Content-Type": "application/vnd.oci.image.manifest.v1+json"], body: manifest)
    }

    /// Replies before the manifest, and how many requests the client sends in all (nil: it gives up with an error).
    @Test(
        arguments: [
            ([503, 503], 3 as Int?),  // server errors are retried
            ([429, 500, 502], 4),  // rate limits too, up to the attempt limit
            ([503, 503, 503, 503], nil),  // and no further
            ([404], nil),  // a missing manifest is not retried
            ([400], nil),  // nor a bad request
        ] as [([Int], Int?)])
    func retriesOnlyWhatMayPass(statuses: [Int], requests: Int?) async throws {
        let transport = ScriptedTransport(statuses.map { Reply(status: $0) } + [Self.manifestReply()])
        let client = Self.client(transport)
        if let requests {
            let fetched = try await client.getManifest(repository: "app", reference: "v1")
            #expect(fetched.data == Self.manifest)
            #expect(transport.requests.count == requests)
        } else {
            await #expect(throws: RegistryError.self) {
                try await client.getManifest(repository: "app", reference: "v1")
            }
            #expect(transport.requests.count == min(statuses.count, Self.settings.retry.maxAttempts))
        }
    }

    @Test func aBrokenConnectionIsRetried() async throws {
        let transport = ScriptedTransport([Reply(status: 200, breaksAfterBody: true), Self.manifestReply()])
        _ = try await Self.client(transport).getManifest(repository: "app", reference: "v1")
        #expect(transport.requests.count == 2)
    }

    @Test func aBearerChallengeFetchesATokenWithTheScopeAndUsesIt() async throws {
        let challenge = #"Bearer realm="https://auth.test/token",service="registry.test",scope="repository:app:pull""#
        let transport = ScriptedTransport([
            Reply(status: 401, headers: ["WWW-Authenticate": challenge]),
            Reply(status: 200, body: Data(#"{"token":"T0K3N","expires_in":300}"#.utf8)),
            Self.manifestReply(),
        ])
        _ = try await Self.client(transport, credentials: Credentials(username: "alice", secret: "pw")).getManifest(
            repository: "app", reference: "v1")
        let requests = transport.requests
        #expect(requests.count == 3)
        #expect(requests[1].url.hasPrefix("https://auth.test/token?"))
        #expect(
            requests[1].url.contains("service=registry.test") && requests[1].url.contains("scope=repository:app:pull"))
        #expect(requests[1].header("Authorization") == Credentials(username: "alice", secret: "pw").basicAuthorization)
        #expect(requests[2].header("Authorization") == "Bearer T0K3N")
    }

    @Test func rejectedCredentialsSayWhatToDo() async throws {
        let transport = ScriptedTransport([
            Reply(status: 401, headers: ["WWW-Authenticate": #"Basic realm="r""#]), Reply(status: 401),
        ])
        do {
            _ = try await Self.client(transport, credentials: Credentials(username: "alice", secret: "wrong"))
                .getManifest(repository: "app", reference: "v1")
            Issue.record("expected the credentials to be refused")
        } catch let error as RegistryError {
            #expect("\(error)".contains("cog login registry.test"), "\(error)")
        }
    }

    /// Credentials go to the registry only: a redirect to storage elsewhere drops them, one on the same host keeps them.
    @Test(arguments: [("https://storage.test/blob", false), ("/v2/app/manifests/elsewhere", true)])
    func redirectsCarryCredentialsOnlyToTheSameHost(location: String, keepsAuthorization: Bool) async throws {
        let transport = ScriptedTransport([
            Reply(status: 401, headers: ["WWW-Authenticate": #"Basic realm="r""#]),
            Reply(status: 307, headers: ["Location": location]),
            Self.manifestReply(),
        ])
        _ = try await Self.client(transport, credentials: Credentials(username: "alice", secret: "pw")).getManifest(
            repository: "app", reference: "v1")
        let last = try #require(transport.requests.last)
        #expect(last.url.hasSuffix(location.hasPrefix("/") ? location : "storage.test/blob"))
        #expect((last.header("Authorization") != nil) == keepsAuthorization)
    }

    @Test func aBrokenDownloadResumesWithARange() async throws {
        let blob = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let descriptor = Descriptor(mediaType: .imageLayer, digest: try .sha256(blob), size: Int64(blob.count))
        let transport = ScriptedTransport([
            Reply(status: 200, body: blob.prefix(4000), breaksAfterBody: true),
            Reply(status: 206, body: blob.dropFirst(4000)),
        ])
        let dir = try TemporaryDirectory("resume")
        let store = BlobStore(root: dir.path)
        try await Self.client(transport).getBlob(repository: "app", descriptor: descriptor, into: store)
        #expect(try FileSystem.read(store.path(for: descriptor.digest)) == blob)
        #expect(transport.requests.map { $0.header("Range") } == [nil, "bytes=4000-"])
    }

    @Test func aServerThatIgnoresTheRangeStartsTheDownloadOver() async throws {
        let blob = Data((0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        let descriptor = Descriptor(mediaType: .imageLayer, digest: try .sha256(blob), size: Int64(blob.count))
        let transport = ScriptedTransport([
            Reply(status: 200, body: blob.prefix(1000), breaksAfterBody: true),
            Reply(status: 200, body: blob),
        ])
        let dir = try TemporaryDirectory("restart")
        try await Self.client(transport).getBlob(
            repository: "app", descriptor: descriptor, into: BlobStore(root: dir.path))
        #expect(try FileSystem.read(BlobStore(root: dir.path).path(for: descriptor.digest)) == blob)
    }
}
