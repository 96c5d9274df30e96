import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// How each failure is retried, reported and worded, against a scripted transport.
@Suite struct FailureRulesTests {
    typealias Reply = ScriptedTransport.Reply
    static let settings = RegistrySettings(
        retry: RetryPolicy(maxAttempts: 5, maxAttemptsUnanswered: 3, initialDelay: 0.001, maxDelay: 0.002))

    /// Attempts in all before giving up, per kind of failure: what cannot pass is not retried, a host that gives no
    /// sign of life gets a few tries, a broken connection the full count.
    @Test(
        arguments: [
            (TransportFailure.certificate, 1), (.caBundle, 1), (.notHTTP, 1),
            (.unresolvedHost, 3), (.connectTimeout, 3), (.noReply(seconds: 20), 3), (.tls, 3),
            (.refused, 5), (.stalled(seconds: 60), 5), (.broken, 5),
        ] as [(TransportFailure, Int)])
    func attemptsPerFailure(kind: TransportFailure, attempts: Int) async throws {
        let transport = ScriptedTransport(Array(repeating: Reply(fails: kind), count: 10))
        let progress = RecordingProgress()
        let client = RegistryClient(
            registry: "registry.test", credentials: nil, settings: Self.settings, http: transport, progress: progress)
        let error = try await registryError { _ = try await client.getManifest(repository: "app", reference: "v1") }
        guard case .transport(_, _, let reported) = error else {
            Issue.record("expected a transport error, got \(error)")
            return
        }
        #expect(reported == kind)
        #expect(transport.requests.count == attempts)
        // Each retry is reported, saying which attempt failed.
        #expect(progress.retries == attempts - 1)
        if attempts > 1 { #expect(progress.retryReasons.first?.hasSuffix("(attempt 1 of \(attempts))") == true) }
    }

    /// Whatever the transport says, the message names the host and what to do.
    @Test(
        arguments: [
            (TransportFailure.unresolvedHost, "the name does not resolve"),
            (.refused, "check the port, and that the registry is running"),
            (.noReply(seconds: 20), "accepted the connection but sent no reply within 20 s"),
            (.stalled(seconds: 60), "no bytes moved for 60 s"),
            (.notHTTP, "did not answer in HTTP"),
            (.tls, "COG_INSECURE_REGISTRIES"),
            (.certificate, "SSL_CERT_FILE"),
            (.caBundle, "SSL_CERT_FILE"),
        ] as [(TransportFailure, String)])
    func transportMessagesNameTheHostAndTheFix(kind: TransportFailure, text: String) {
        let error = RegistryError.transport(
            url: "https://registry.test:5000/v2/app/manifests/v1", message: "x", kind: kind)
        #expect("\(error)".contains(text), "\(error)")
        #expect("\(error)".contains("registry.test:5000"), "\(error)")
    }

    @Test func aWebPageIsNamedNotDumped() async throws {
        let page = Data(
            "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body><center><h1>404 Not Found</h1></center></body></html>"
                .utf8)
        let transport = ScriptedTransport([Reply(status: 404, headers: ["Content-Type": "text/html"], body: page)])
        let client = RegistryClient(registry: "web.test", credentials: nil, settings: Self.settings, http: transport)
        let error = try await registryError { _ = try await client.getManifest(repository: "app", reference: "v1") }
        let text = "\(error)"
        #expect(text.contains("HTTP 404 from web.test: not a container registry"), "\(text)")
        #expect(text.contains("an HTML page titled \"404 Not Found\""), "\(text)")
        #expect(!text.contains("<html>") && !text.contains("<center>"), "\(text)")
    }

    @Test func aProxysErrorPageSaysTheRegistryBehindItIsFailing() async throws {
        let page = Data("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>".utf8)
        let transport = ScriptedTransport(Array(repeating: Reply(status: 502, body: page), count: 5))
        let client = RegistryClient(registry: "web.test", credentials: nil, settings: Self.settings, http: transport)
        let error = try await registryError { _ = try await client.getManifest(repository: "app", reference: "v1") }
        #expect("\(error)".contains("the registry behind it is down or failing"), "\(error)")
        #expect(transport.requests.count == 5)
    }

    @Test func aManifestThatIsNotJSONIsNoManifest() async throws {
        let transport = ScriptedTransport([
            Reply(status: 200, headers: ["Content-Type": "text/plain"], body: Data("everything is fine".utf8))
        ])
        let client = RegistryClient(registry: "ok.test", credentials: nil, settings: Self.settings, http: transport)
        let error = try await registryError { _ = try await client.getManifest(repository: "app", reference: "v1") }
        #expect("\(error)".contains("not a manifest"), "\(error)")
        #expect("\(error)".contains("is ok.test a container registry?"), "\(error)")
    }

    /// "trying the next source" only when there is one.
    @Test(arguments: [[], ["mirror.test"]])
    func theNextSourceIsAnnouncedOnlyWhenThereIsOne(mirrors: [String]) async throws {
        var settings = Self.settings
        settings.mirrors = ["registry.test": mirrors]
        let transport = ScriptedTransport(Array(repeating: Reply(status: 404), count: 2 * (mirrors.count + 1)))
        let progress = RecordingProgress()
        let transfer = ImageTransfer(
            settings: settings, credentials: DockerConfig(environment: ["DOCKER_CONFIG": "/nonexistent"]),
            http: transport, progress: progress)
        let error = try await registryError {
            _ = try await transfer.pull(
                try ImageReference(parsing: "registry.test/app:v1"), into: BlobStore(root: "/nonexistent"))
        }
        #expect("\(error)".contains("HTTP 404"), "\(error)")
        let announced = progress.retryReasons.filter { $0.contains("trying the next source") }
        #expect(announced.count == mirrors.count, "\(progress.retryReasons)")
    }

    /// The default settings give up on a host that accepts connections and never answers within about a minute:
    /// a few attempts, each waiting the reply limit, plus the pauses between them.
    @Test func theDefaultsBoundASilentHost() {
        let settings = RegistrySettings()
        let attempts = settings.retry.attempts(
            after: RegistryError.transport(url: "", message: "", kind: .noReply(seconds: 20)))
        let waits = Double(attempts) * (settings.timeouts.reply ?? .infinity)
        let pauses = (1..<attempts).map {
            min(settings.retry.maxDelay, settings.retry.initialDelay * pow(2, Double($0 - 1)))
        }
        #expect(waits + pauses.reduce(0, +) <= 75)
        // A stall limit exists, and nothing limits a whole transfer that keeps moving.
        #expect(settings.timeouts.stall != nil)
    }
}
