import Foundation
import OCI
import TestSupport
import Testing

@testable import Registry

/// Pushes and pulls against Debian's docker-registry, checked by skopeo.
@Suite(.serialized) struct PushPullTests {
    @Test func pushThenSkopeoVerifiesAndWePullBack() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir)
        let progress = RecordingProgress()
        let transfer = ImageTransfer(settings: testSettings(), progress: progress)
        let reference = try ImageReference(parsing: "\(registry.address)/cog/test:v1")
        let digest = try await transfer.push(image, from: layout.blobs, to: reference).digest
        #expect(digest == image.descriptor.digest)
        #expect(progress.finished.filter { $0 == "uploaded" }.count == 5)

        // skopeo re-reads every blob and checks its digest.
        let copy = try runCommand([
            "skopeo", "copy", "--src-tls-verify=false", "docker://\(reference)", "dir:\(dir.path)/skopeo",
        ])
        #expect(copy.status == 0, "\(copy.output)")
        for layer in image.manifest.layers {
            let sum = try runCommand(["sha256sum", "\(dir.path)/skopeo/\(layer.digest.encoded)"]).stdout.prefix(64)
            #expect(String(sum) == layer.digest.encoded)
        }

        let store = BlobStore(root: "\(dir.path)/pulled")
        let pulled = try await transfer.pull(reference, into: store)
        #expect(pulled.descriptor.digest == image.descriptor.digest)
        #expect(pulled.configuration.config?.labels?["seed"] == "1")
        for layer in pulled.manifest.layers { try store.verify(layer.digest, size: layer.size) }
    }

    @Test func repeatedPushSkipsEveryBlob() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 20)
        let reference = try ImageReference(parsing: "\(registry.address)/cog/again:latest")
        try await ImageTransfer(settings: testSettings()).push(image, from: layout.blobs, to: reference)
        let progress = RecordingProgress()
        try await ImageTransfer(settings: testSettings(), progress: progress).push(
            image, from: layout.blobs, to: reference)
        #expect(progress.finished == Array(repeating: "exists", count: 5))
    }

    @Test func chunkedUploadWorksAndMountsAcrossRepositories() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: (5 << 20) + 12345)
        let first = try ImageReference(parsing: "\(registry.address)/cog/chunked:v1")
        try await ImageTransfer(settings: testSettings(chunked: true)).push(image, from: layout.blobs, to: first)
        let second = try ImageReference(parsing: "\(registry.address)/cog/other:v1")
        let sources = Dictionary(uniqueKeysWithValues: image.manifest.layers.map { ($0.digest, first) })
        let progress = RecordingProgress()
        try await ImageTransfer(settings: testSettings(chunked: true), progress: progress).push(
            image, from: layout.blobs, to: second, mountSources: sources)
        #expect(progress.finished.filter { $0 == "mounted" }.count == 4)
        let inspect = try runCommand(["skopeo", "inspect", "--tls-verify=false", "docker://\(second)"])
        #expect(inspect.status == 0, "\(inspect.output)")
    }

    @Test func weReadWhatSkopeoPushes() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 20, seed: 7)
        let target = "\(registry.address)/skopeo/pushed:v7"
        let copy = try runCommand([
            "skopeo", "copy", "--dest-tls-verify=false", "oci:\(layout.root):latest", "docker://\(target)",
        ])
        #expect(copy.status == 0, "\(copy.output)")
        let store = BlobStore(root: "\(dir.path)/pulled")
        let pulled = try await ImageTransfer(settings: testSettings()).pull(
            try ImageReference(parsing: target), into: store)
        #expect(pulled.configuration.rootfs.diffIDs == image.configuration.rootfs.diffIDs)
        for layer in pulled.manifest.layers { try store.verify(layer.digest, size: layer.size) }
    }

    @Test func mirrorServesDockerHubPulls() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, _) = try makeTestImage(in: dir, bigSize: 1 << 16, seed: 3)
        let copy = try runCommand([
            "skopeo", "copy", "--dest-tls-verify=false", "oci:\(layout.root):latest",
            "docker://\(registry.address)/library/python:3.11-slim",
        ])
        #expect(copy.status == 0, "\(copy.output)")
        var settings = testSettings()
        settings.mirrors = ["docker.io": [registry.address]]
        let pulled = try await ImageTransfer(settings: settings).pull(
            try ImageReference(parsing: "python:3.11-slim"), into: BlobStore(root: "\(dir.path)/pulled"))
        #expect(pulled.configuration.config?.labels?["seed"] == "3")
    }

    @Test func missingImageSaysWhatWasAsked() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        do {
            _ = try await ImageTransfer(settings: testSettings()).pull(
                try ImageReference(parsing: "\(registry.address)/no/such:tag"), into: BlobStore(root: dir.path))
            Issue.record("pulling a missing image succeeded")
        } catch {
            #expect("\(error)".contains("HTTP 404"), "\(error)")
            #expect("\(error)".contains("MANIFEST_UNKNOWN"), "\(error)")
        }
    }

    /// A damaged local blob never reaches the registry: it is found before upload and named with its file.
    @Test func aDamagedBlobIsNamedAndNeverSent() async throws {
        let registry = try TestRegistry()
        let dir = try TemporaryDirectory()
        let (layout, image) = try makeTestImage(in: dir, bigSize: 1 << 16, small: 0)
        let layer = image.manifest.layers[0]
        let path = layout.blobs.path(for: layer.digest)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[1000] ^= 0xff
        chmod(path, 0o644)
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            try await ImageTransfer(settings: testSettings()).push(
                image, from: layout.blobs, to: try ImageReference(parsing: "\(registry.address)/damaged/app:v1"))
            Issue.record("a damaged blob was pushed")
        } catch let error as OCIError {
            guard case .corruptBlob = error else { throw error }
            #expect("\(error)".contains(layer.digest.description), "\(error)")
            #expect("\(error)".contains(path), "\(error)")
        }
        let client = RegistryClient(registry: registry.address, credentials: nil, settings: testSettings())
        #expect(try await !client.blobExists(repository: "damaged/app", descriptor: layer))
    }
}
