import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// Every real registry speaks HTTPS. Here Debian's docker-registry serves TLS with a certificate from a CA the
/// test makes, under a name in /etc/hosts (cog speaks plain HTTP to loopback addresses, and the certificate must
/// name what the client asked for); the client trusts the CA through the bundle `SSL_CERT_FILE` names.
@Suite(.serialized) struct HTTPSTests {
    /// A TLS registry (token auth through a TLS token server when `tokens`), reached as `NAME:PORT`.
    struct Setup {
        let ca: TestCA
        let hosts: HostsEntry
        let registry: TestRegistry
        let tokenServer: BackgroundProcess?
        var address: String { "\(hosts.name):\(registry.address.split(separator: ":").last ?? "")" }

        init(tokens: Bool = false) throws {
            ca = try TestCA()
            hosts = try HostsEntry("registry")
            let server = try ca.issue(for: [hosts.name])
            var arguments = ["--tls", server.certificate, server.key]
            if tokens {
                let process = try BackgroundProcess(
                    [
                        "python3", "\(packageRoot)/testdata/registry/token-server.py", "--dir", "{DIR}", "--user",
                        "alice:s3cret", "--tls", server.certificate, server.key,
                    ], label: "tokens")
                tokenServer = process
                arguments += [
                    "--token-auth", process.directory.path, "--token-realm",
                    "https://\(hosts.name):\(process.port)/token",
                ]
            } else {
                tokenServer = nil
            }
            registry = try TestRegistry(arguments)
        }
    }

    static func settings(caBundle: String?) -> RegistrySettings {
        var settings = testSettings()
        settings.caBundle = caBundle
        return settings
    }

    @Test func pushAndPullOverHTTPSWithAPrivateCA() async throws {
        let setup = try Setup()
        let dir = try TemporaryDirectory("https")
        let (layout, image) = try makeTestImage(in: dir, bigSize: 2 << 20)
        let reference = try ImageReference(parsing: "\(setup.address)/tls/app:v1")
        let transfer = ImageTransfer(settings: Self.settings(caBundle: setup.ca.certificate))
        #expect(try transfer.pullClients(for: reference.registry).last?.baseURL.hasPrefix("https://") == true)
        #expect(try await transfer.push(image, from: layout.blobs, to: reference).digest == image.descriptor.digest)

        // skopeo, trusting the same CA, reads back every blob and checks its digest.
        let certs = try TemporaryDirectory("certs")
        try FileManager.default.copyItem(atPath: setup.ca.certificate, toPath: "\(certs.path)/ca.crt")
        let copy = try runCommand([
            "skopeo", "copy", "--src-cert-dir", certs.path, "docker://\(reference)", "dir:\(dir.path)/skopeo",
        ])
        #expect(copy.status == 0, "\(copy.output)")

        let store = BlobStore(root: "\(dir.path)/pulled")
        let pulled = try await transfer.pull(reference, into: store)
        #expect(pulled.descriptor.digest == image.descriptor.digest)
        for layer in pulled.manifest.layers { try store.verify(layer.digest, size: layer.size) }
    }

    @Test func bearerTokensFromATLSTokenServer() async throws {
        let setup = try Setup(tokens: true)
        let dir = try TemporaryDirectory("https-token")
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 20, small: 1)
        let reference = try ImageReference(parsing: "\(setup.address)/team/model:v1")
        let config = try dockerConfig(in: dir, registry: setup.address, user: "alice", password: "s3cret")
        let transfer = ImageTransfer(
            settings: Self.settings(caBundle: setup.ca.certificate),
            credentials: DockerConfig(environment: ["DOCKER_CONFIG": config]))
        try await transfer.push(image, from: layout.blobs, to: reference)
        let pulled = try await transfer.pull(reference, into: BlobStore(root: "\(dir.path)/pulled"))
        #expect(pulled.descriptor.digest == image.descriptor.digest)
        let granted = (setup.tokenServer?.log ?? []).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["status"] as? Int == 200 }
        #expect(!granted.isEmpty, "\(setup.tokenServer?.log ?? [])")

        let anonymous = ImageTransfer(
            settings: Self.settings(caBundle: setup.ca.certificate),
            credentials: DockerConfig(environment: ["DOCKER_CONFIG": "/nonexistent"]))
        let error = try await registryError {
            _ = try await anonymous.pull(reference, into: BlobStore(root: "\(dir.path)/anonymous"))
        }
        #expect("\(error)".contains("not authorized for team/model"), "\(error)")
    }

    enum Distrust: String, CaseIterable, Sendable {
        /// No bundle: libcurl's default (the system's CAs), which does not hold the test's CA.
        case systemBundle
        /// A bundle with another CA.
        case anotherCA
        /// The right CA, but reached under a name the certificate does not hold.
        case otherName
    }

    /// A certificate that does not verify is an error naming the host and both fixes, never retried and never
    /// answered by falling back to plain HTTP.
    @Test(arguments: Distrust.allCases)
    func aCertificateThatDoesNotVerifyIsAClearError(distrust: Distrust) async throws {
        let setup = try Setup()
        let other = try TestCA("another CA")
        let alias = try HostsEntry("alias")
        let port = setup.registry.address.split(separator: ":").last ?? ""
        let host = distrust == .otherName ? "\(alias.name):\(port)" : setup.address
        let bundle: String? =
            switch distrust {
            case .systemBundle: nil
            case .anotherCA: other.certificate
            case .otherName: setup.ca.certificate
            }
        let dir = try TemporaryDirectory("distrust")
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 16, small: 1)
        let progress = RecordingProgress()
        let transfer = ImageTransfer(settings: Self.settings(caBundle: bundle), progress: progress)
        let error = try await registryError {
            try await transfer.push(image, from: layout.blobs, to: try ImageReference(parsing: "\(host)/tls/app:v1"))
        }
        guard case .transport(let url, _, .certificate) = error else {
            Issue.record("expected a certificate failure, got \(error)")
            return
        }
        #expect(url.hasPrefix("https://\(host)/"))
        let text = "\(error)"
        #expect(text.contains("the TLS certificate of \(host) does not verify"), "\(text)")
        #expect(text.contains("SSL_CERT_FILE") && text.contains("COG_INSECURE_REGISTRIES"), "\(text)")
        #expect(progress.retries == 0, "\(progress.retryReasons)")
        // Nothing reached the registry, over TLS or otherwise.
        #expect(!FileManager.default.fileExists(atPath: "\(setup.registry.directory.path)/data/docker"))
    }

    @Test func aCABundleThatDoesNotExistIsNamed() async throws {
        let error = try await registryError {
            _ = try await CurlTransport(caBundle: "/nonexistent/ca.pem").send(
                HTTPRequest(method: "GET", url: "https://registry.test/v2/"))
        }
        #expect("\(error)".contains("SSL_CERT_FILE names /nonexistent/ca.pem, which does not exist"), "\(error)")
    }
}
