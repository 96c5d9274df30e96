import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

@Suite struct ExtractionTests {
    func writeLayer(_ entries: [TarEntry], in dir: TemporaryDirectory) throws -> String {
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerWriter.write(entries: entries, to: store, options: LayerOptions())
        return store.path(for: layer.descriptor.digest)
    }

    @Test func roundTripKeepsContentModesLinks() throws {
        let dir = try TemporaryDirectory()
        let root = try makeSampleTree(in: dir)
        let layer = try writeLayer(try DirectoryScanner(root: root).scan(), in: dir)
        let target = "\(dir.path)/out"
        let summary = try LayerExtractor(target: target).extract(layerPath: layer)
        #expect(summary.entries > 8)
        // diff -r compares contents and link targets; modes and hard links are checked on their own.
        let diff = try runCommand(["diff", "-r", "--no-dereference", root, target])
        #expect(diff.status == 0, "\(diff.output)")
        var a = stat()
        var b = stat()
        var c = stat()
        stat("\(target)/usr/bin/tool", &a)
        stat("\(target)/usr/bin/tool-hardlink", &b)
        stat("\(target)/empty", &c)
        #expect(a.st_ino == b.st_ino)
        #expect(a.st_mode & 0o777 == 0o755)
        #expect(c.st_mode & 0o777 == 0o700)
        #expect(a.st_mtim.tv_sec == 0)
    }

    @Test func whiteoutsHideLowerLayers() throws {
        let dir = try TemporaryDirectory()
        let lower = try writeLayer(
            [
                .directory("a"), .file("a/b", [1]), .file("a/c", [2]),
                .directory("d"), .file("d/e", [3]), .directory("d/sub"), .file("d/sub/x", [4]),
            ], in: dir)
        let upper = try writeLayer(
            [
                .directory("a"), .whiteout(for: "a/b"),
                .directory("d"), .opaqueWhiteout(in: "d"), .file("d/f", [5]),
                .whiteout(for: "missing/nothing"),
            ], in: dir)
        let target = "\(dir.path)/root"
        try LayerExtractor(target: target).extract(layerPath: lower)
        let summary = try LayerExtractor(target: target).extract(layerPath: upper)
        #expect(summary.whiteouts == 3)
        let found = try runCommand(["sh", "-c", "cd \(target) && find . | sort"]).stdout
        #expect(found == ".\n./a\n./a/c\n./d\n./d/f\n")
    }

    @Test func overlayModeTurnsWhiteoutsIntoOverlayMarks() throws {
        guard isRoot else { return }  // creating 0/0 character devices and trusted xattrs needs root
        let dir = try TemporaryDirectory()
        let layer = try writeLayer([.directory("d"), .opaqueWhiteout(in: "d"), .whiteout(for: "gone")], in: dir)
        var extractor = LayerExtractor(target: "\(dir.path)/lower")
        extractor.whiteouts = .overlay(xattrNamespace: "trusted")
        try extractor.extract(layerPath: layer)
        var st = stat()
        #expect(lstat("\(dir.path)/lower/gone", &st) == 0)
        #expect(st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0)
        let opaque = try runCommand([
            "python3", "-c", "import os;print(os.getxattr('\(dir.path)/lower/d','trusted.overlay.opaque').decode())",
        ])
        #expect(opaque.stdout == "y\n")
    }

    @Test func laterLayerReplacesFileWithDirectoryAndBack() throws {
        let dir = try TemporaryDirectory()
        let one = try writeLayer([.file("x", [1]), .directory("y"), .file("y/inner", [2])], in: dir)
        let two = try writeLayer([.directory("x"), .file("x/now-a-dir", [3]), .file("y", [4])], in: dir)
        let target = "\(dir.path)/root"
        try LayerExtractor(target: target).extract(layerPath: one)
        try LayerExtractor(target: target).extract(layerPath: two)
        let found = try runCommand(["sh", "-c", "cd \(target) && find . -printf '%y %p\\n' | sort"]).stdout
        #expect(found == "d .\nd ./x\nf ./x/now-a-dir\nf ./y\n")
    }

    @Test func parentsResolveThroughSymlinksInsideTheRoot() throws {
        // Debian's merged /usr: lib -> usr/lib in a lower layer, files under lib/ in a later one.
        let dir = try TemporaryDirectory()
        let base = try writeLayer(
            [.directory("usr"), .directory("usr/lib"), TarEntry(path: "lib", kind: .symlink(target: "usr/lib"))],
            in: dir)
        let next = try writeLayer([.file("lib/libx.so", [9])], in: dir)
        let target = "\(dir.path)/root"
        try LayerExtractor(target: target).extract(layerPath: base)
        try LayerExtractor(target: target).extract(layerPath: next)
        #expect(FileManager.default.fileExists(atPath: "\(target)/usr/lib/libx.so"))
    }
}
