import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

@Suite struct TarWriterTests {
    @Test func sameTreeGivesSameBytes() throws {
        let dir = try TemporaryDirectory()
        let root = try makeSampleTree(in: dir)
        let store = BlobStore(root: "\(dir.path)/blobs")
        let entries = try DirectoryScanner(root: root).scan()
        let first = try LayerWriter.write(entries: entries, to: store, options: LayerOptions(threads: 1))
        // Touch every file: mtimes change, but all are clamped to the epoch.
        _ = try runCommand(["find", root, "-exec", "touch", "-h", "{}", "+"])
        let second = try LayerWriter.write(
            entries: try DirectoryScanner(root: root).scan(), to: store, options: LayerOptions(threads: 2))
        #expect(first == second)
    }

    @Test func digestsAreComputedInOnePassAndMatchIndependentTools() throws {
        let dir = try TemporaryDirectory()
        let root = try makeSampleTree(in: dir)
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerWriter.write(
            entries: try DirectoryScanner(root: root).scan(), to: store, options: LayerOptions())
        let blob = store.path(for: layer.descriptor.digest)
        #expect(try sha256sum(blob) == layer.descriptor.digest.encoded)
        let diffID = try runCommand(["sh", "-c", "gzip -dc \(blob) | sha256sum"]).stdout.prefix(64)
        #expect(String(diffID) == layer.diffID.encoded)
        #expect(layer.descriptor.mediaType == .imageLayerGzip)
        #expect(layer.descriptor.size == Int64(try FileManager.default.attributesOfItem(atPath: blob)[.size] as! Int))
    }

    @Test func bsdtarListsEveryKindOfEntry() throws {
        let dir = try TemporaryDirectory()
        let root = try makeSampleTree(in: dir)
        let store = BlobStore(root: "\(dir.path)/blobs")
        var entries = try DirectoryScanner(root: root).scan()
        entries.append(TarEntry(path: "big-ids", kind: .regular(.bytes([1])), uid: 3_000_000, gid: 3_000_001))
        let layer = try LayerWriter.write(entries: entries, to: store, options: LayerOptions())
        let listing = try bsdtarList(store.path(for: layer.descriptor.digest))
        #expect(listing.contains("etc/tool-link -> ../usr/bin/tool"))
        #expect(listing.contains("usr/bin/tool-hardlink link to usr/bin/tool"))
        #expect(listing.contains(String(repeating: "very-long-directory-name/", count: 6) + "file-with-a-long-name.py"))
        #expect(listing.contains("3000000  3000001"))
        #expect(listing.contains("-rwxr-xr-x"))
        #expect(listing.contains("drwx------"))
        #expect(!listing.contains("PaxHeader"))
        // The xattr travels as a PAX record that bsdtar reads back.
        let xattrs = try runCommand([
            "sh", "-c",
            "mkdir -p \(dir.path)/x && bsdtar -xpf \(store.path(for: layer.descriptor.digest)) --xattrs -C \(dir.path)/x && getfattr -n user.cog.test --only-values \(dir.path)/x/etc/hostname 2>/dev/null || python3 -c \"import os;print(os.getxattr('\(dir.path)/x/etc/hostname','user.cog.test').decode())\"",
        ])
        #expect(xattrs.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "v")
    }

    @Test func entriesAreSortedWithWhiteoutsFirstInTheirDirectory() {
        let paths = ["b", "a/z", "a/.wh.y", "a", "a-b", "a/.wh..wh..opq", "a/b"]
        #expect(paths.sorted(by: layerOrder) == ["a", "a/.wh..wh..opq", "a/.wh.y", "a/b", "a/z", "a-b", "b"])
    }

    @Test func mtimesAreClampedToSourceDateEpoch() throws {
        let dir = try TemporaryDirectory()
        let store = BlobStore(root: "\(dir.path)/blobs")
        let entries = [
            TarEntry(path: "new", kind: .regular(.bytes([1])), mtime: 2_000_000_000),
            TarEntry(path: "old", kind: .regular(.bytes([1])), mtime: 1_000),
        ]
        let layer = try LayerWriter.write(
            entries: entries, to: store, options: LayerOptions(sourceDateEpoch: 1_700_000_000))
        let reader = try TarReader(path: store.path(for: layer.descriptor.digest))
        #expect(try reader.next()?.mtime == 1_700_000_000)
        #expect(try reader.next()?.mtime == 1_000)
    }

    @Test func filesOfEightGiBAndMoreGetAPaxSize() throws {
        let dir = try TemporaryDirectory()
        let big = "\(dir.path)/sparse"
        let size: Int64 = 8 << 30
        _ = FileManager.default.createFile(atPath: big, contents: nil)
        #expect(truncate(big, off_t(size)) == 0)
        let head = HeadSink(keep: 4096)
        let hashing = try HashingSink(head)
        let tar = try TarWriter(hashing, sourceDateEpoch: 0)
        try tar.append(TarEntry(path: "sparse", kind: .regular(.file(path: BytePath(big), size: size))))
        try tar.finish()
        let header = String(decoding: head.bytes.prefix(1024), as: UTF8.self)
        #expect(header.contains("size=8589934592"))
        #expect(hashing.count > size)
    }

    /// A file named données.csv once crashed every build: libarchive had no conversion for the name in the C locale.
    @Test func namesInEveryScriptGoThroughByteForByte() throws {
        let dir = try TemporaryDirectory()
        let names = [
            "données.csv", "日本語/ファイル.txt", "кириллица", "Ελληνικά/αρχείο.md", "emoji-🙂",
            String(repeating: "é", count: 80) + "/" + String(repeating: "ü", count: 70) + ".bin",
        ]
        for name in names { try dir.write("tree/\(name)", name) }
        symlink("données.csv", "\(dir.path)/tree/lien-vers-données")
        link("\(dir.path)/tree/кириллица", "\(dir.path)/tree/жёсткая-ссылка")
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerWriter.write(
            entries: try DirectoryScanner(root: "\(dir.path)/tree").scan(), to: store, options: LayerOptions())
        let blob = store.path(for: layer.descriptor.digest)
        // An independent reader (Python's tarfile) sees every name and link target. (libarchive cuts the ustar name
        // of a path over 255 bytes mid-character; the PAX record that readers use holds it whole.)
        let listing = try runCommand([
            "python3", "-c",
            """
            import sys, tarfile
            for m in tarfile.open(sys.argv[1], encoding="utf-8"):
                print(m.name, m.linkname, sep="\\t")
            """, blob,
        ])
        #expect(listing.status == 0, "\(listing.output)")
        let lines = Set(listing.stdout.split(separator: "\n").map(String.init))
        for name in names where name != "кириллица" { #expect(lines.contains(name + "\t"), "\(name) in \(lines)") }
        #expect(lines.contains("lien-vers-données\tdonnées.csv"))
        // The first of two hard-linked names in layer order carries the content; ж sorts before к.
        #expect(lines.contains("жёсткая-ссылка\t") && lines.contains("кириллица\tжёсткая-ссылка"))
        // Valid UTF-8 names are plain PAX path records, not marked as binary (as GNU tar writes them).
        #expect(try runCommand(["sh", "-c", "zcat \(blob) | grep -c hdrcharset"]).stdout == "0\n")
        // Our own extractor writes the same names back.
        try LayerExtractor(target: "\(dir.path)/out").extract(layerPath: blob)
        for name in names {
            #expect((try? String(contentsOfFile: "\(dir.path)/out/\(name)", encoding: .utf8)) == name)
        }
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir.path)/out/lien-vers-données"))
                == "données.csv")
    }

    @Test func zstdAndUncompressedLayersReadBack() throws {
        let dir = try TemporaryDirectory()
        let root = try makeSampleTree(in: dir)
        let store = BlobStore(root: "\(dir.path)/blobs")
        for compression in [LayerCompression.zstd, .none] {
            let layer = try LayerWriter.write(
                entries: try DirectoryScanner(root: root).scan(), to: store,
                options: LayerOptions(compression: compression))
            #expect(layer.descriptor.mediaType == compression.layerMediaType)
            #expect(try bsdtarList(store.path(for: layer.descriptor.digest)).contains("etc/hostname"))
            if compression == .none { #expect(layer.diffID == layer.descriptor.digest) }
        }
    }
}

/// Keeps the first bytes of a stream and counts the rest.
final class HeadSink: ByteSink {
    let keep: Int
    var bytes: [UInt8] = []
    init(keep: Int) { self.keep = keep }
    func write(_ buffer: UnsafeRawBufferPointer) throws {
        if bytes.count < keep { bytes.append(contentsOf: buffer.prefix(keep - bytes.count)) }
    }
    func finish() throws {}
}
