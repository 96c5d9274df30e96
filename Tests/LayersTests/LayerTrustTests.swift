import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

/// What a layer from a less trusted place (a registry step cache) is checked against, and the names cog.yaml
/// gives cache mounts.
@Suite struct LayerTrustTests {
    @Test(arguments: [LayerCompression.gzip, .zstd, .none])
    func theUncompressedDigestIsTheDiffIDTheWriterComputed(_ compression: LayerCompression) throws {
        let dir = try TemporaryDirectory()
        let root = try makeSampleTree(in: dir)
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerWriter.write(
            entries: try DirectoryScanner(root: root).scan(), to: store,
            options: LayerOptions(compression: compression))
        #expect(try UncompressedDigest.of(blob: store.path(for: layer.descriptor.digest)) == layer.diffID)
        // Another layer's diffID is not this blob's.
        let other = try LayerWriter.write(entries: [], to: store, options: LayerOptions(compression: compression))
        #expect(try UncompressedDigest.of(blob: store.path(for: other.descriptor.digest)) != layer.diffID)
    }

    @Test func aCacheMountIDNeverNamesAFolderOutsideTheCache() {
        #expect(StepRunner.mountDirectory("pip-cache") == "pip-cache")
        #expect(StepRunner.mountDirectory("apt_lists.v2") == "apt_lists.v2")
        for hostile in ["../../../home/runner", "..", ".", "", "/root/.cache/pip", "a/b", "données"] {
            let name = StepRunner.mountDirectory(hostile)
            #expect(name.hasPrefix("id-") && !name.contains("/") && name.count == 35, "\(hostile) → \(name)")
        }
        // Distinct ids keep distinct folders.
        #expect(StepRunner.mountDirectory("/root/.cache/pip") != StepRunner.mountDirectory("/root/.cache/uv"))
    }
}
