import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

@Suite(.serialized) struct AuthTests {
    @Test func basicAuthFromDockerConfig() async throws {
        let registry = try TestRegistry(["--htpasswd", "alice:s3cret"])
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 16)
        let config = DockerConfig(environment: [
            "DOCKER_CONFIG": try dockerConfig(in: dir, registry: registry.address, user: "alice", password: "s3cret"),
            "HOME": dir.path,
        ])
        let client = RegistryClient(
            registry: registry.address, credentials: try config.credentials(for: registry.address),
            settings: testSettings())
        for layer in image.manifest.layers + [image.manifest.config] {
            try await client.pushBlob(repository: "secure/app", descriptor: layer, from: layout.blobs)
        }
        _ = try await client.putManifest(
            repository: "secure/app", reference: "v1", data: try layout.blobs.read(image.descriptor),
            mediaType: .imageManifest)
        let inspect = try runCommand([
            "skopeo", "inspect", "--tls-verify=false", "--creds", "alice:s3cret",
            "docker://\(registry.address)/secure/app:v1",
        ])
        #expect(inspect.status == 0, "\(inspect.output)")
    }

    @Test func missingCredentialsGiveAHintAndNoSecret() async throws {
        let registry = try TestRegistry(["--htpasswd", "alice:s3cret"])
        let anonymous = RegistryClient(registry: registry.address, credentials: nil, settings: testSettings())
        do {
            _ = try await anonymous.getManifest(repository: "secure/app", reference: "v1")
            Issue.record("anonymous access succeeded")
        } catch {
            #expect(
                "\(error)"
                    == "not authorized for secure/app on \(registry.address): no credentials for \(registry.address); run `cog login \(registry.address)` or add them to ~/.docker/config.json"
            )
        }
        let wrong = RegistryClient(
            registry: registry.address, credentials: Credentials(username: "alice", secret: "hunter2"),
            settings: testSettings())
        do {
            _ = try await wrong.getManifest(repository: "secure/app", reference: "v1")
            Issue.record("a wrong password was accepted")
        } catch {
            #expect("\(error)".contains("rejected the credentials"))
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test func credentialHelperProtocol() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "bin/docker-credential-fake",
            """
            #!/bin/sh
            read server
            case "$1" in
              get) if [ "$server" = "registry.example" ]; then echo '{"ServerURL":"registry.example","Username":"bob","Secret":"from-helper"}'; else echo "credentials not found in native keychain"; exit 1; fi ;;
              store) cat > /dev/null; exit 0 ;;
            esac
            """, mode: 0o755)
        try dir.write("docker/config.json", #"{"credHelpers":{"registry.example":"fake"}}"#)
        let config = DockerConfig(environment: [
            "DOCKER_CONFIG": "\(dir.path)/docker", "PATH": "\(dir.path)/bin:/usr/bin:/bin", "HOME": dir.path,
        ])
        let credentials = try config.credentials(for: "registry.example")
        #expect(credentials == Credentials(username: "bob", secret: "from-helper"))
        #expect(try config.credentials(for: "other.example") == nil)
        #expect(!"\(credentials!)".contains("from-helper"))
    }

    @Test func loginStoresWhereDockerReadsIt() throws {
        let dir = try TemporaryDirectory()
        let config = DockerConfig(environment: ["DOCKER_CONFIG": "\(dir.path)/docker", "HOME": dir.path])
        try config.store(Credentials(username: "carol", secret: "pw"), for: "r8.im")
        #expect(try config.credentials(for: "r8.im") == Credentials(username: "carol", secret: "pw"))
        var st = stat()
        stat("\(dir.path)/docker/config.json", &st)
        #expect(st.st_mode & 0o777 == 0o600)
    }
}
