import Foundation
import Layers
import OCI
import TestSupport

@testable import Registry

/// An image in an OCI layout: one layer of `bigSize` pseudo-random bytes and `small` tiny layers.
func makeTestImage(in dir: TemporaryDirectory, bigSize: Int = 3 << 20, small: Int = 3, seed: UInt64 = 1) throws -> (
    OCILayout, StoredImage
) {
    let layout = try OCILayout.create(at: "\(dir.path)/layout-\(seed)")
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    var big = [UInt8](repeating: 0, count: bigSize)
    for i in 0..<bigSize {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        big[i] = UInt8(truncatingIfNeeded: state >> 33)
    }
    var layers = [
        try LayerWriter.write(
            entries: [.file("big.bin", big)], to: layout.blobs, options: LayerOptions(compression: .none))
    ]
    for i in 0..<small {
        layers.append(
            try LayerWriter.write(
                entries: [.file("small-\(i)-\(seed).txt", Array("layer \(i) of image \(seed)\n".utf8))],
                to: layout.blobs, options: LayerOptions()))
    }
    let configuration = ImageConfiguration(
        created: "1970-01-01T00:00:00Z", config: .init(cmd: ["true"], labels: ["seed": "\(seed)"]),
        rootfs: .init(diffIDs: layers.map(\.diffID)))
    let image = try ImageWriter.write(
        configuration: configuration, layers: layers.map(\.descriptor), to: layout, name: "latest")
    return (layout, image)
}

/// Settings for loopback tests: quick retries, small chunks when asked.
func testSettings(chunked: Bool = false) -> RegistrySettings {
    RegistrySettings(
        retry: RetryPolicy(maxAttempts: 8, initialDelay: 0.01, maxDelay: 0.1),
        concurrency: 3, chunkThreshold: chunked ? 1 << 20 : 512 << 20, chunkSize: 1 << 20)
}

/// Collects events for assertions.
final class RecordingProgress: TransferProgress, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [TransferEvent] = []
    func report(_ event: TransferEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }
    var finished: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.compactMap { if case .finished(_, _, let how) = $0 { return how } else { return nil } }
    }
    /// The reasons of `.retrying` events.
    var retryReasons: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.compactMap { if case .retrying(_, let reason) = $0 { return reason } else { return nil } }
    }
    var retries: Int {
        lock.lock()
        defer { lock.unlock() }
        return events.filter { if case .retrying = $0 { return true } else { return false } }.count
    }
}

/// A docker config directory holding `auths` for one registry.
func dockerConfig(in dir: TemporaryDirectory, registry: String, user: String, password: String) throws -> String {
    let auth = Data("\(user):\(password)".utf8).base64EncodedString()
    try dir.write("docker/config.json", #"{"auths":{"\#(registry)":{"auth":"\#(auth)"}}}"#)
    return "\(dir.path)/docker"
}

extension ImageTransfer {
    /// A transfer with credentials from this process's environment and libcurl.
    init(settings: RegistrySettings, progress: TransferProgress = SilentProgress()) {
        self.init(
            settings: settings, credentials: DockerConfig(environment: ProcessInfo.processInfo.environment),
            progress: progress)
    }
}

extension RegistryClient {
    /// A client over libcurl.
    convenience init(registry: String, credentials: Credentials?, settings: RegistrySettings) {
        self.init(registry: registry, credentials: credentials, settings: settings, http: CurlTransport())
    }
}

/// Runs `body` and fails if it is still running after `seconds`: a generous bound against hangs, never a timing
/// assertion. Transfers in flight are cancelled then.
func withinBound<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first else { throw TestSetupError("still running after \(Int(seconds)) s: it hangs") }
        return first
    }
}

/// Runs `body`, which must fail with a `RegistryError` within `seconds`; returns the error. The bound only catches
/// hangs: on 2 cores the test runner's threads may be busy with other suites for minutes before `body` runs.
func registryError(within seconds: Double = 300, _ body: @escaping @Sendable () async throws -> Void) async throws
    -> RegistryError
{
    let outcome: Result<Void, Error> = try await withinBound(seconds) {
        do { return .success(try await body()) } catch { return .failure(error) }
    }
    switch outcome {
    case .success: throw TestSetupError("expected an error, but it succeeded")
    case .failure(let error as RegistryError): return error
    case .failure(let error): throw TestSetupError("expected a RegistryError, got \(type(of: error)): \(error)")
    }
}
