import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

/// Layers unpacked several at once into the store: each into its own dir, duplicates once, failures reported.
@Suite struct LayerUnpackerTests {
    @Test func layersAreUnpackedConcurrentlyEachIntoItsDir() async throws {
        let dir = try TemporaryDirectory("unpacker")
        let blobs = BlobStore(root: "\(dir.path)/blobs")
        let store = LayerStore(root: "\(dir.path)/layers")
        var layers: [(blob: Digest, diffID: Digest)] = []
        for index in 0..<6 {
            let entries = [
                TarEntry.directory("etc"), TarEntry.file("etc/layer-\(index)", Array("layer \(index)\n".utf8)),
            ]
            let written = try LayerWriter.write(entries: entries, to: blobs, options: LayerOptions())
            layers.append((written.descriptor.digest, written.diffID))
        }
        layers.append(layers[2])  // the same layer twice, as images with repeated empty layers have
        let unpacker = LayerUnpacker(store: store, blobs: blobs, width: 3)
        unpacker.start(blob: layers[4].blob, diffID: layers[4].diffID)  // one started early, as a pull does
        let directories = try unpacker.directories(for: layers)
        #expect(directories.count == 7)
        #expect(directories[6] == directories[2])
        for index in 0..<6 {
            #expect(
                try String(contentsOfFile: "\(directories[index])/etc/layer-\(index)", encoding: .utf8)
                    == "layer \(index)\n")
            #expect(directories[index] == store.directory(for: layers[index].diffID))
        }
    }

    @Test func aBrokenLayerIsReportedAndLeavesNothingHalfWritten() async throws {
        let dir = try TemporaryDirectory("unpacker")
        let blobs = BlobStore(root: "\(dir.path)/blobs")
        let store = LayerStore(root: "\(dir.path)/layers")
        let good = try LayerWriter.write(
            entries: [TarEntry.file("ok", Array("fine\n".utf8))], to: blobs, options: LayerOptions())
        let broken = try blobs.write(Data("this is not a gzip stream".utf8))
        let brokenDiffID = try Digest.sha256(Data("pretend".utf8))
        let unpacker = LayerUnpacker(store: store, blobs: blobs)
        do {
            _ = try unpacker.directories(for: [(good.descriptor.digest, good.diffID), (broken, brokenDiffID)])
            Issue.record("a broken layer was unpacked")
        } catch {
            #expect(!FileManager.default.fileExists(atPath: store.directory(for: brokenDiffID)))
        }
        #expect(store.contains(good.diffID), "the good layer is kept for the next build")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/layers/sha256").filter {
            !$0.hasSuffix(".lock")
        }
        #expect(leftovers == [good.diffID.encoded], "\(leftovers)")
    }
}
