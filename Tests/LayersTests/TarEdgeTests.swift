import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

/// What the random trees do not reach: paths longer than the kernel takes in one call, big sparse files, files
/// that change while they are archived, sockets, and names written by other tar writers.
@Suite struct TarEdgeTests {
    func writeLayer(_ entries: [TarEntry], in dir: TemporaryDirectory, compression: LayerCompression = .gzip)
        throws -> String
    {
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerWriter.write(
            entries: entries, to: store, options: LayerOptions(compression: compression, threads: 1))
        return store.path(for: layer.descriptor.digest)
    }

    func python(_ script: String, _ arguments: [String]) throws -> String {
        let result = try runCommand(["python3", "-c", script] + arguments)
        guard result.status == 0 else { throw TestSetupError("python3: \(result.stderr)") }
        return result.stdout
    }

    @Test func pathsLongerThanTheKernelTakesGoThroughScanLayerAndExtraction() throws {
        let dir = try TemporaryDirectory("deep")
        defer { _ = try? runCommand(["rm", "-rf", dir.path]) }
        // 40 levels of 112-byte names: a path of about 4,500 bytes, beyond PATH_MAX (4,096).
        _ = try python(
            """
            import os, sys
            os.makedirs(sys.argv[1]); os.chdir(sys.argv[1])
            for i in range(40):
                name = "d" * 110 + "%02d" % i; os.mkdir(name); os.chdir(name)
            open("file", "w").write("deep\\n"); os.symlink("../../x", "link"); os.link("file", "hard")
            os.mkfifo("fifo")
            """, ["\(dir.path)/source"])
        let entries = try DirectoryScanner(root: "\(dir.path)/source").scan()
        #expect(entries.map(\.path.count).max() ?? 0 > 4096)
        let layer = try writeLayer(entries, in: dir, compression: .none)
        // Python's tarfile (an independent reader) sees the deepest names whole.
        let names = try python(
            "import sys, tarfile\nfor m in tarfile.open(sys.argv[1]): print(len(m.name), m.name.rsplit('/', 1)[-1])",
            [layer])
        #expect(names.contains("file\n") && names.contains("link\n") && names.contains("hard\n"), "\(names)")
        try LayerExtractor(target: "\(dir.path)/ours").extract(layerPath: layer)
        let trees = try TortureTests.describe(["\(dir.path)/source", "\(dir.path)/ours"])
        #expect(trees[0].count == 44)
        #expect(TortureTests.difference(trees[0], trees[1]).isEmpty)
        // The snapshot method walks it too, and finds the same entries.
        let snapshot = try TreeSnapshot.take("\(dir.path)/source", excluded: [])
        #expect(snapshot.states.count == 44)
    }

    @Test func sparseFilesAreReadByRegionAndStaySparseWhenExtracted() throws {
        let dir = try TemporaryDirectory("sparse")
        let path = "\(dir.path)/tree/disk.img"
        try dir.write("tree/disk.img", "")
        let size: Int64 = 64 << 20
        #expect(truncate(path, off_t(size)) == 0)
        let fd = open(path, O_WRONLY)
        for offset in [0, 10 << 20, size - 3] {
            _ = "data".withCString { pwrite(fd, $0, 3, off_t(offset)) }
        }
        close(fd)
        // Only the data regions are read; the holes come from a buffer of zeros.
        let source = try FileContentSource(path: BytePath(path), size: size)
        var copied: Int64 = 0
        var nonZero: [UInt8] = []
        try source.copy { chunk in
            copied += Int64(chunk.count)
            nonZero += chunk.filter { $0 != 0 }
        }
        #expect(copied == size)
        #expect(nonZero == Array("datdatdat".utf8))
        #expect(source.bytesRead <= 1 << 20, "read \(source.bytesRead) bytes of a 64 MiB file holding 9")
        // Extracted, the file has the same bytes and its holes again.
        let layer = try writeLayer(try DirectoryScanner(root: "\(dir.path)/tree").scan(), in: dir)
        try LayerExtractor(target: "\(dir.path)/out").extract(layerPath: layer)
        #expect(try sha256sum("\(dir.path)/out/disk.img") == (try sha256sum(path)))
        var st = stat()
        #expect(stat("\(dir.path)/out/disk.img", &st) == 0 && st.st_size == size)
        #expect(Int64(st.st_blocks) * 512 < 4 << 20, "\(st.st_blocks) blocks allocated")
    }

    struct Change: CustomStringConvertible, Sendable {
        let name: String
        let shell: String
        let message: String
        var description: String { name }
    }

    static let changes = [
        Change(
            name: "grows", shell: "echo more >> f", message: "it had 6 bytes when the tree was scanned and has 11 now"),
        Change(name: "shrinks", shell: ": > f", message: "it had 6 bytes when the tree was scanned and has 0 now"),
        Change(name: "becomes a fifo", shell: "rm f && mkfifo f", message: "it is no longer a regular file"),
        Change(name: "becomes a symlink", shell: "rm f && ln -s /etc/passwd f", message: "replaced by a symlink"),
        Change(name: "is removed", shell: "rm f", message: "it was removed"),
    ]

    @Test(arguments: changes)
    func aFileThatChangesBeforeItIsArchivedIsNamed(_ change: Change) throws {
        let dir = try TemporaryDirectory("changing")
        try dir.write("tree/f", "hello\n")
        let entries = try DirectoryScanner(root: "\(dir.path)/tree").scan()
        #expect(try runCommand(["sh", "-c", "cd \(dir.path)/tree && \(change.shell)"]).status == 0)
        do {
            _ = try writeLayer(entries, in: dir)
            Issue.record("the change (\(change.name)) went unnoticed")
        } catch let error as LayersError {
            #expect(error.description.hasPrefix("\(dir.path)/tree/f changed while it was being archived"), "\(error)")
            #expect(error.description.contains(change.message), "\(error)")
        }
    }

    @Test func aFileWrittenWhileBeingReadIsNamed() throws {
        let dir = try TemporaryDirectory("written")
        let path = try dir.write("f", String(repeating: "x", count: 100_000))
        var times = [timespec(tv_sec: 1000, tv_nsec: 0), timespec(tv_sec: 1000, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, 0)
        let source = try FileContentSource(path: BytePath(path), size: 100_000)
        let fd = open(path, O_WRONLY)
        _ = "y".withCString { pwrite(fd, $0, 1, 50_000) }
        close(fd)
        #expect {
            try source.copy { _ in }
        } throws: { error in
            (error as? LayersError)?.description
                == "\(path) changed while it was being archived (it was written to while being read); run the build again"
        }
    }

    @Test func socketsAreLeftOutAndNamed() throws {
        let dir = try TemporaryDirectory("socket")
        try dir.write("tree/run/keep.txt", "k")
        // A listening Unix socket, as a dev server leaves in a project.
        let made = try runCommand([
            "python3", "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
            "\(dir.path)/tree/run/app.sock",
        ])
        #expect(made.status == 0, "\(made.output)")
        var scanner = DirectoryScanner(root: "\(dir.path)/tree")
        scanner.prefix = "src"
        var skipped: [BytePath] = []
        scanner.skippedSocket = { skipped.append($0) }
        let entries = try scanner.scan()
        #expect(skipped == ["src/run/app.sock"])
        #expect(entries.map(\.path) == ["src/run", "src/run/keep.txt"])
        let snapshot = try TreeSnapshot.take("\(dir.path)/tree", excluded: [])
        #expect(Set(snapshot.states.keys) == ["run", "run/keep.txt"], "the snapshot method leaves it out too")
    }

    /// Layers from registries come from other writers (Go's archive/tar, GNU tar): names in NFD (as macOS makes
    /// them), names that are not UTF-8 in PAX records marked BINARY and in GNU long-name records, all kept.
    @Test func namesFromOtherWritersComeThroughByteForByte() throws {
        let dir = try TemporaryDirectory("foreign")
        defer { _ = try? runCommand(["rm", "-rf", dir.path]) }
        let script = """
            import io, sys, tarfile
            def add(t, name, link=None):
                i = tarfile.TarInfo(name)
                if link is not None: i.type = tarfile.SYMTYPE; i.linkname = link
                t.addfile(i, None if link is not None else io.BytesIO(b""))
            with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
                add(t, "caf\\u0065\\u0301.txt"); add(t, "nfd-link", "e\\u0301"); add(t, "latin-\\udce9"); add(t, "bin", "\\udcff")
            with tarfile.open(sys.argv[2], "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
                add(t, "gnu-\\udce9-" + "x" * 120); add(t, "gnu-link", "\\udce9" * 120)
            """
        _ = try python(script, ["\(dir.path)/pax.tar", "\(dir.path)/gnu.tar"])
        for tar in ["pax.tar", "gnu.tar"] {
            try LayerExtractor(target: "\(dir.path)/out").extract(layerPath: "\(dir.path)/\(tar)")
        }
        let listing = try python(
            """
            import os, sys
            for n in sorted(os.listdir(os.fsencode(sys.argv[1]))):
                p = os.path.join(os.fsencode(sys.argv[1]), n)
                print(n.hex(), os.readlink(p).hex() if os.path.islink(p) else "")
            """, ["\(dir.path)/out"])
        let expected = [
            ("caf" + "e\u{301}.txt").hexOfUTF8 + " ", "bin".hexOfUTF8 + " ff",
            BytePath(Array("latin-".utf8) + [0xE9]).hex + " ",
            "nfd-link".hexOfUTF8 + " " + "e\u{301}".hexOfUTF8,
            BytePath(Array("gnu-".utf8) + [0xE9] + Array(("-" + String(repeating: "x", count: 120)).utf8)).hex + " ",
            "gnu-link".hexOfUTF8 + " " + String(repeating: "e9", count: 120),
        ]
        for line in expected { #expect(listing.contains(line + "\n"), "\(line) in \(listing)") }
    }
}

extension String {
    var hexOfUTF8: String { BytePath(self).hex }
}

extension BytePath {
    var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
}
