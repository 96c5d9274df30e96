import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// Step cache entries stored in and read back from Debian's docker-registry.
@Suite(.serialized) struct StepCacheRepositoryTests {
    @Test func anEntryRoundTripsIsNeverReplacedAndAMissIsNil() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir)
        let transfer = ImageTransfer(settings: testSettings())
        let cache = try StepCacheRepository(
            try ImageReference(parsing: "\(registry.address)/cache/steps:ignored"), transfer: transfer)
        let key = try Digest.sha256(Data("a step".utf8))
        let layers = zip(image.manifest.layers, image.configuration.rootfs.diffIDs).enumerated().map {
            StepCacheEntry.Layer(descriptor: $1.0, diffID: $1.1, label: $0 == 0 ? "numpy" : nil)
        }
        let entry = StepCacheEntry(key: key, layers: layers)
        #expect(try await cache.entry(for: key) == nil, "a repository that does not exist yet is a miss")

        #expect(try await cache.store(entry, from: layout.blobs))
        #expect(!(try await cache.store(entry, from: layout.blobs)), "an entry is never replaced")
        #expect(try await cache.entry(for: key) == entry)
        #expect(try await cache.entry(for: try Digest.sha256(Data("another step".utf8))) == nil)

        // An ordinary image: skopeo reads it, under the key's tag.
        let tag = StepCacheEntry.tag(for: key)
        #expect(tag == "cog-step-\(key.encoded)")
        #expect(tag.count <= 128)
        let inspect = try runCommand([
            "skopeo", "inspect", "--tls-verify=false", "docker://\(registry.address)/cache/steps:\(tag)",
        ])
        #expect(inspect.status == 0, "\(inspect.output)")
        #expect(inspect.stdout.contains(key.description))

        // The layers come back, each checked against its digest.
        let store = BlobStore(root: "\(dir.path)/machine-b")
        try await cache.download(entry, into: store, concurrency: 2)
        for layer in layers { try store.verify(layer.descriptor.digest, size: layer.descriptor.size) }
    }

    @Test func anEntryNamingAnotherKeyIsRefused() throws {
        let key = try Digest.sha256(Data("one".utf8))
        let other = try Digest.sha256(Data("two".utf8))
        let layer = Descriptor(mediaType: .imageLayerGzip, digest: key, size: 1)
        let manifest = ImageManifest(
            config: Descriptor(mediaType: .imageConfig, digest: key, size: 1), layers: [layer])
        let configuration = ImageConfiguration(
            config: .init(labels: [StepCacheEntry.keyLabel: other.description]), rootfs: .init(diffIDs: [key]))
        #expect(throws: RegistryError.self) {
            try StepCacheEntry(key: key, manifest: manifest, configuration: configuration, source: "test")
        }
    }
}
