import Foundation
import TestSupport
import Testing

@testable import OCI

/// Outputs never destroy what a person keeps, and never share bytes with the cache.
@Suite struct OutputLayoutTests {
    /// A cache store holding one small image.
    static func cachedImage(in dir: TemporaryDirectory) throws -> (BlobStore, StoredImage) {
        let cache = BlobStore(root: "\(dir.path)/cache/blobs", removesCorruptBlobs: true)
        let layer = try cache.write(Data(repeating: 7, count: 100_000))
        let image = try ImageWriter.write(
            configuration: ImageConfiguration(),
            layers: [Descriptor(mediaType: .imageLayerGzip, digest: layer, size: 100_000)], into: cache)
        return (cache, image)
    }

    @Test func refusesWhatIsNotALayoutAndLeavesItAlone() throws {
        let dir = try TemporaryDirectory()
        let (cache, image) = try Self.cachedImage(in: dir)
        try dir.write("project/cog.yaml", "build: {}\n")
        try dir.write("project/notes.txt", "mine\n")
        try dir.write("file", "a file\n")
        for (target, reason) in [
            ("project", "the directory holds other files (cog.yaml, notes.txt) and is not an OCI layout"),
            ("file", "it is a file, not a directory"),
        ] {
            let path = "\(dir.path)/\(target)"
            #expect(throws: OCIError.outputRefused(path: path, reason: reason)) {
                try OCILayout.writeOutput(to: path) {
                    try ImageWriter.add(image, from: cache, to: $0, name: "v1", transfer: .copy)
                }
            }
        }
        #expect(try String(contentsOfFile: "\(dir.path)/project/cog.yaml", encoding: .utf8) == "build: {}\n")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/project").sorted() == [
                "cog.yaml", "notes.txt",
            ])
        #expect(try String(contentsOfFile: "\(dir.path)/file", encoding: .utf8) == "a file\n")
    }

    @Test func writesNewAndEmptyDirectoriesAndAddsToALayout() throws {
        let dir = try TemporaryDirectory()
        let (cache, image) = try Self.cachedImage(in: dir)
        try FileManager.default.createDirectory(atPath: "\(dir.path)/empty", withIntermediateDirectories: false)
        for target in ["new/nested", "empty"] {
            try OCILayout.writeOutput(to: "\(dir.path)/\(target)") {
                try ImageWriter.add(image, from: cache, to: $0, name: "v1", transfer: .copy)
            }
            try OCILayout.open("\(dir.path)/\(target)").verify(
                try OCILayout.open("\(dir.path)/\(target)").image(named: "v1"))
        }
        // Adding to an existing layout keeps the images already there (skopeo's behaviour).
        let other = try ImageWriter.write(
            configuration: ImageConfiguration(created: "2024-01-01T00:00:00Z"), layers: [], into: cache)
        try OCILayout.writeOutput(to: "\(dir.path)/empty") {
            try ImageWriter.add(other, from: cache, to: $0, name: "v2", transfer: .copy)
        }
        let layout = try OCILayout.open("\(dir.path)/empty")
        #expect(try layout.image(named: "v1").descriptor.digest == image.descriptor.digest)
        #expect(try layout.image(named: "v2").descriptor.digest == other.descriptor.digest)
    }

    @Test func copiedBlobsAreIndependentOfTheCache() throws {
        let dir = try TemporaryDirectory()
        let (cache, image) = try Self.cachedImage(in: dir)
        try OCILayout.writeOutput(to: "\(dir.path)/out") {
            try ImageWriter.add(image, from: cache, to: $0, name: "v1", transfer: .copy)
        }
        let digest = image.manifest.layers[0].digest
        let output = "\(dir.path)/out/blobs/sha256/\(digest.encoded)"
        var a = stat()
        var b = stat()
        #expect(stat(output, &a) == 0 && stat(cache.path(for: digest), &b) == 0)
        #expect(a.st_ino != b.st_ino, "a copy, not a hard link into the cache")
        try Data("edited".utf8).write(to: URL(fileURLWithPath: output))
        try cache.verify(digest, size: 100_000)
    }

    @Test func aCorruptCachedBlobIsRemovedAndNeverCopiedOut() throws {
        let dir = try TemporaryDirectory()
        let (cache, image) = try Self.cachedImage(in: dir)
        let digest = image.manifest.layers[0].digest
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: cache.path(for: digest)))
        try handle.seek(toOffset: 500)
        try handle.write(contentsOf: Data([0xFF]))
        try handle.close()
        #expect {
            try OCILayout.writeOutput(to: "\(dir.path)/out") {
                try ImageWriter.add(image, from: cache, to: $0, name: "v1", transfer: .copy)
            }
        } throws: { error in
            guard case .corruptBlob(let found, _, _, true)? = error as? OCIError else { return false }
            return found == digest
        }
        #expect(!cache.contains(digest), "removed, to be built or fetched again")
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/out"), "nothing half-written")
        // A store a person keeps (a layout) is reported on, never changed.
        let keptDirectory = try TemporaryDirectory()
        let (kept, keptImage) = try Self.cachedImage(in: keptDirectory)
        let keptPath = kept.path(for: keptImage.manifest.layers[0].digest)
        try Data(repeating: 1, count: 100_000).write(to: URL(fileURLWithPath: keptPath))
        let layout = BlobStore(root: kept.root)
        #expect(throws: OCIError.self) { try layout.verifyIntegrity(keptImage.manifest.layers[0].digest) }
        #expect(FileManager.default.fileExists(atPath: keptPath))
    }
}
