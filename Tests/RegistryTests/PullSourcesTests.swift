import Foundation
import OCI
import Synchronization
import TestSupport
import Testing

@testable import Registry

/// Pulling through mirrors: a source that lacks the image hands over to the next one, by name; the last source's
/// error is the answer, with no talk of a source that does not exist.
@Suite struct PullSourcesTests {
    final class Reasons: TransferProgress {
        let items = Mutex<[String]>([])
        func report(_ event: TransferEvent) {
            if case .retrying(_, let reason) = event { items.withLock { $0.append(reason) } }
        }
    }

    @Test func theNextSourceIsNamedOnlyWhenThereIsOne() async throws {
        let registry = try TestRegistry()
        let mirror = try TestRegistry()
        let dir = try TemporaryDirectory()
        let store = BlobStore(root: "\(dir.path)/blobs")
        let reference = try ImageReference(parsing: "\(registry.address)/missing/image:v1")

        let alone = Reasons()
        await #expect(throws: RegistryError.self) {
            try await ImageTransfer(settings: testSettings(), progress: alone).pull(reference, into: store)
        }
        #expect(alone.items.withLock { $0 }.isEmpty, "\(alone.items.withLock { $0 })")

        var settings = testSettings()
        settings.mirrors[registry.address] = [mirror.address]
        let mirrored = Reasons()
        await #expect(throws: RegistryError.self) {
            try await ImageTransfer(settings: settings, progress: mirrored).pull(reference, into: store)
        }
        let reasons = mirrored.items.withLock { $0 }
        #expect(reasons.count == 1)
        #expect(reasons.first?.hasPrefix("\(mirror.address): ") == true)
        #expect(reasons.first?.hasSuffix("; trying the next source: \(registry.address)") == true, "\(reasons)")
    }
}
