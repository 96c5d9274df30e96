import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// The bearer token flow against docker-registry configured for token auth, with a real token server.
@Suite(.serialized) struct TokenAuthTests {
    @Test func pushAndPullWithBearerTokensCachedPerScope() async throws {
        let tokens = try BackgroundProcess(
            [
                "python3", "\(packageRoot)/testdata/registry/token-server.py", "--dir", "{DIR}", "--user",
                "alice:s3cret",
                // Long enough that a run slowed by a busy machine never sees the token expire (it did once at
                // the default 300 s, and we then fetched a second token, rightly).
                "--expires", "3600",
            ], label: "tokens")
        let registry = try TestRegistry(["--token-auth", tokens.directory.path])
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 20)
        let client = RegistryClient(
            registry: registry.address, credentials: Credentials(username: "alice", secret: "s3cret"),
            settings: testSettings())
        for blob in image.manifest.layers + [image.manifest.config] {
            try await client.pushBlob(repository: "team/model", descriptor: blob, from: layout.blobs)
        }
        _ = try await client.putManifest(
            repository: "team/model", reference: "v1", data: try layout.blobs.read(image.descriptor),
            mediaType: .imageManifest)
        let granted = tokens.log.filter { $0.contains("\"status\": 200") || $0.contains("\"status\":200") }
        // One token for push+pull on the repository, reused for every blob and the manifest.
        #expect(granted.count == 1, "\(tokens.log)")
        let inspect = try runCommand([
            "skopeo", "inspect", "--tls-verify=false", "--creds", "alice:s3cret",
            "docker://\(registry.address)/team/model:v1",
        ])
        #expect(inspect.status == 0, "\(inspect.output)")

        let anonymous = RegistryClient(registry: registry.address, credentials: nil, settings: testSettings())
        do {
            _ = try await anonymous.getManifest(repository: "team/model", reference: "v1")
            Issue.record("anonymous pull succeeded")
        } catch {
            #expect("\(error)".contains("not authorized for team/model"), "\(error)")
        }
    }

    @Test func anIdentityTokenIsExchangedWithOAuth2() async throws {
        // Docker's `identitytoken` is an OAuth2 refresh token: POSTed as a form, never sent as basic auth.
        let refresh = "r3fresh+tok/en=="
        let tokens = try BackgroundProcess(
            [
                "python3", "\(packageRoot)/testdata/registry/token-server.py", "--dir", "{DIR}", "--user",
                "alice:s3cret",
                "--refresh-token", "\(refresh):alice",
            ], label: "tokens")
        let registry = try TestRegistry(["--token-auth", tokens.directory.path])
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 16)
        let client = RegistryClient(
            registry: registry.address,
            credentials: Credentials(username: "<token>", secret: "", identityToken: refresh),
            settings: testSettings())
        for blob in image.manifest.layers + [image.manifest.config] {
            try await client.pushBlob(repository: "team/oauth", descriptor: blob, from: layout.blobs)
        }
        _ = try await client.putManifest(
            repository: "team/oauth", reference: "v1", data: try layout.blobs.read(image.descriptor),
            mediaType: .imageManifest)
        let granted = tokens.log.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["status"] as? Int == 200 }
        #expect(granted.count == 1, "\(tokens.log)")
        #expect(granted.first?["method"] as? String == "POST")
        #expect(granted.first?["grant"] as? String == "refresh_token")
        #expect(granted.first?["authorization"] as? Bool == false, "the refresh token is not sent as basic auth")
        #expect(
            (granted.first?["scopes"] as? [String])?.contains("repository:team/oauth:pull,push") == true,
            "\(tokens.log)")

        let wrong = RegistryClient(
            registry: registry.address,
            credentials: Credentials(username: "<token>", secret: "", identityToken: "expired"),
            settings: testSettings())
        do {
            _ = try await wrong.getManifest(repository: "team/oauth", reference: "v1")
            Issue.record("a wrong refresh token was accepted")
        } catch {
            #expect("\(error)".contains("rejected the credentials"), "\(error)")
        }
    }
}
