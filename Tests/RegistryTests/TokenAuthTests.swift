import Foundation
import OCI
import Testing
import TestSupport
@testable import Registry

/// The bearer token flow against docker-registry configured for token auth, with a real token server.
@Suite(.serialized) struct TokenAuthTests {
    @Test func pushAndPullWithBearerTokensCachedPerScope() async throws {
        let tokens = try BackgroundProcess(["python3", "\(packageRoot)/testdata/registry/token-server.py", "--dir", "{DIR}", "--user", "alice:s3cret"], label: "tokens")
        let registry = try TestRegistry(["--token-auth", tokens.directory.path])
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 20)
        let client = RegistryClient(registry: registry.address, credentials: Credentials(username: "alice", secret: "s3cret"), settings: testSettings())
        for blob in image.manifest.layers + [image.manifest.config] {
            try await client.pushBlob(repository: "team/model", descriptor: blob, from: layout.blobs)
        }
        _ = try await client.putManifest(repository: "team/model", reference: "v1", data: try layout.blobs.read(image.descriptor), mediaType: .imageManifest)
        let granted = tokens.log.filter { $0.contains("\"status\": 200") || $0.contains("\"status\":200") }
        // One token for push+pull on the repository, reused for every blob and the manifest.
        #expect(granted.count == 1, "\(tokens.log)")
        let inspect = try runCommand(["skopeo", "inspect", "--tls-verify=false", "--creds", "alice:s3cret", "docker://\(registry.address)/team/model:v1"])
        #expect(inspect.status == 0, "\(inspect.output)")

        let anonymous = RegistryClient(registry: registry.address, credentials: nil, settings: testSettings())
        do {
            _ = try await anonymous.getManifest(repository: "team/model", reference: "v1")
            Issue.record("anonymous pull succeeded")
        } catch {
            #expect("\(error)".contains("not authorized for team/model"), "\(error)")
        }
    }
}
