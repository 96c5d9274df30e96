import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

/// What this project writes, read by independent tools: oci-image-tool, umoci, skopeo, bsdtar.
@Suite(.serialized) struct InteropTests {
    /// Two layers (a sample tree, then one that deletes and adds) and a config, in a layout named `latest`.
    /// gzip only: Debian's oci-image-tool and umoci predate zstd layers (zstd is checked with bsdtar).
    static func writeImage(in dir: TemporaryDirectory) throws -> (layout: OCILayout, image: StoredImage) {
        let root = try makeSampleTree(in: dir)
        let layout = try OCILayout.create(at: "\(dir.path)/layout")
        let first = try LayerWriter.write(
            entries: try DirectoryScanner(root: root).scan(), to: layout.blobs, options: LayerOptions())
        let second = try LayerWriter.write(
            entries: [.directory("etc"), .whiteout(for: "etc/hostname"), .file("etc/added", Array("new\n".utf8))],
            to: layout.blobs, options: LayerOptions())
        let configuration = ImageConfiguration(
            created: "1970-01-01T00:00:00Z",
            config: .init(
                exposedPorts: ["5000/tcp": EmptyObject()], env: ["PATH=/usr/bin:/bin"], entrypoint: ["/usr/bin/tool"],
                cmd: ["--serve"], workingDir: "/src", labels: ["run.cog.version": "test"]),
            rootfs: .init(diffIDs: [first.diffID, second.diffID]),
            history: [.init(createdBy: "first"), .init(createdBy: "second")])
        let image = try ImageWriter.write(
            configuration: configuration, layers: [first.descriptor, second.descriptor], to: layout, name: "latest")
        return (layout, image)
    }

    @Test func ociImageToolValidatesTheLayout() throws {
        guard commandExists("oci-image-tool") else {
            Issue.record("oci-image-tool is not installed (make test installs it)")
            return
        }
        let dir = try TemporaryDirectory()
        let (layout, _) = try Self.writeImage(in: dir)
        let result = try runCommand([
            "oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", layout.root,
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Validation succeeded"), "\(result.output)")
    }

    @Test func umociUnpacksWithWhiteoutsApplied() throws {
        guard commandExists("umoci") else {
            Issue.record("umoci is not installed (make test installs it)")
            return
        }
        let dir = try TemporaryDirectory()
        let (layout, _) = try Self.writeImage(in: dir)
        let bundle = "\(dir.path)/bundle"
        let result = try runCommand(
            ["umoci", "unpack"] + (isRoot ? [] : ["--rootless"]) + ["--image", "\(layout.root):latest", bundle])
        #expect(result.status == 0, "\(result.output)")
        let rootfs = "\(bundle)/rootfs"
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/etc/added"))
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/etc/hostname"))
        #expect((try? String(contentsOfFile: "\(rootfs)/usr/bin/tool", encoding: .utf8)) == "#!/bin/sh\necho hi\n")
        let config = try String(contentsOfFile: "\(bundle)/config.json", encoding: .utf8)
        #expect(config.contains("/usr/bin/tool"))
    }

    @Test func skopeoInspectsAndCopiesEveryBlob() throws {
        guard commandExists("skopeo") else {
            Issue.record("skopeo is not installed (make test installs it)")
            return
        }
        let dir = try TemporaryDirectory()
        let (layout, image) = try Self.writeImage(in: dir)
        let inspect = try runCommand(["skopeo", "inspect", "oci:\(layout.root):latest"])
        #expect(inspect.status == 0, "\(inspect.output)")
        #expect(inspect.stdout.contains(image.manifest.layers[0].digest.description))
        #expect(inspect.stdout.contains("\"run.cog.version\": \"test\""))
        let copy = try runCommand(["skopeo", "copy", "oci:\(layout.root):latest", "dir:\(dir.path)/copied"])
        #expect(copy.status == 0, "\(copy.output)")
        for layer in image.manifest.layers {
            #expect(try sha256sum("\(dir.path)/copied/\(layer.digest.encoded)") == layer.digest.encoded)
        }
    }

    @Test func bsdtarListsTheLayersFromTheLayout() throws {
        let dir = try TemporaryDirectory()
        let (layout, image) = try Self.writeImage(in: dir)
        let second = try bsdtarList(layout.blobs.path(for: image.manifest.layers[1].digest))
        #expect(second.contains("etc/.wh.hostname"))
        #expect(second.contains("etc/added"))
    }

    @Test func skopeoReadsTheDockerArchive() throws {
        guard commandExists("skopeo") else {
            Issue.record("skopeo is not installed (make test installs it)")
            return
        }
        let dir = try TemporaryDirectory()
        let (layout, image) = try Self.writeImage(in: dir)
        let archive = "\(dir.path)/image.tar"
        try DockerArchiveWriter.write(image: image, blobs: layout.blobs, tags: ["cog-test:latest"], to: archive)
        let inspect = try runCommand(["skopeo", "inspect", "docker-archive:\(archive)"])
        #expect(inspect.status == 0, "\(inspect.output)")
        #expect(inspect.stdout.contains("\"run.cog.version\": \"test\""))
        #expect(inspect.stdout.contains(image.configuration.rootfs.diffIDs[1].description), "\(inspect.stdout)")
        let manifest = try runCommand(["bsdtar", "-xOf", archive, "manifest.json"]).stdout
        #expect(manifest.contains(#""RepoTags":["cog-test:latest"]"#))
    }
}
