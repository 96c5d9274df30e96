import Foundation
import TestSupport
import Testing

@testable import OCI

@Suite struct OCILayoutTests {
    @Test func writesAndReadsAnImage() throws {
        let dir = try TemporaryDirectory()
        let layout = try OCILayout.create(at: "\(dir.path)/layout")
        let layer = Data("not really a tar".utf8)
        let layerDigest = try layout.blobs.write(layer)
        let configuration = ImageConfiguration(config: .init(cmd: ["true"]), rootfs: .init(diffIDs: [layerDigest]))
        let stored = try ImageWriter.write(
            configuration: configuration,
            layers: [Descriptor(mediaType: .imageLayer, digest: layerDigest, size: Int64(layer.count))], to: layout,
            name: "latest")

        let reopened = try OCILayout.open("\(dir.path)/layout")
        let image = try reopened.image(named: "latest")
        #expect(image.descriptor.digest == stored.descriptor.digest)
        #expect(image.configuration.config?.cmd == ["true"])
        try reopened.verify(image)
        let marker = try String(contentsOfFile: "\(dir.path)/layout/oci-layout", encoding: .utf8)
        #expect(marker == #"{"imageLayoutVersion":"1.0.0"}"#)
        let index = try reopened.index()
        #expect(index.manifests.first?.annotations?[Descriptor.refNameAnnotation] == "latest")
    }

    @Test func replacingANameKeepsOneEntry() throws {
        let dir = try TemporaryDirectory()
        let layout = try OCILayout.create(at: dir.path)
        for cmd in ["a", "b"] {
            try ImageWriter.write(
                configuration: ImageConfiguration(config: .init(cmd: [cmd])), layers: [], to: layout, name: "latest")
        }
        #expect(try layout.index().manifests.count == 1)
        #expect(try layout.image(named: "latest").configuration.config?.cmd == ["b"])
    }

    @Test func corruptBlobIsDetected() throws {
        let dir = try TemporaryDirectory()
        let layout = try OCILayout.create(at: dir.path)
        let digest = try layout.blobs.write(Data("hello".utf8))
        try Data("jello".utf8).write(to: URL(fileURLWithPath: layout.blobs.path(for: digest)))
        let actual = try Digest.sha256(Data("jello".utf8))
        #expect(throws: OCIError.digestMismatch(expected: digest, actual: actual, what: layout.blobs.path(for: digest)))
        {
            try layout.blobs.verify(digest)
        }
    }

    @Test func ingestRefusesAWrongDigestAndLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let store = BlobStore(root: "\(dir.path)/blobs")
        let source = try dir.write("file", "content")
        let wrong = try Digest.sha256(Data("other".utf8))
        #expect(throws: OCIError.self) { try store.ingest(file: source, expected: wrong) }
        #expect(!store.contains(wrong))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/blobs/sha256")
        #expect(leftovers.isEmpty)
    }

    @Test func failedWriteLeavesNoOutputDirectory() throws {
        struct Boom: Error {}
        let dir = try TemporaryDirectory()
        let target = "\(dir.path)/out"
        #expect(throws: Boom.self) {
            try OCILayout.writeOutput(to: target) { layout in
                try layout.blobs.write(Data("partial".utf8))
                throw Boom()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func openingSomethingElseSaysWhy() throws {
        let dir = try TemporaryDirectory()
        #expect(
            throws: OCIError.invalidLayout(
                path: dir.path, reason: "no oci-layout file (was it written by `cog build --oci-out`?)")
        ) {
            try OCILayout.open(dir.path)
        }
    }

    @Test func unknownNameListsTheKnownOnes() throws {
        let dir = try TemporaryDirectory()
        let layout = try OCILayout.create(at: dir.path)
        try ImageWriter.write(configuration: ImageConfiguration(), layers: [], to: layout, name: "v1")
        #expect(throws: OCIError.referenceNotFound("v2", available: ["v1"])) { try layout.image(named: "v2") }
    }
}

/// Directories are made component by component, whatever form the path takes.
@Suite struct MakeDirectoryTests {
    @Test func relativeDottedAndNestedPaths() throws {
        let dir = try TemporaryDirectory("mkdir")
        for path in ["\(dir.path)/a/b/c", "\(dir.path)/s/../t/u", "\(dir.path)/./v//w/"] {
            try FileSystem.makeDirectory(path)
            var st = stat()
            #expect(stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR, "\(path)")
        }
        try dir.write("file", "x")
        #expect(throws: OCIError.self) { try FileSystem.makeDirectory("\(dir.path)/file/sub") }
    }
}
