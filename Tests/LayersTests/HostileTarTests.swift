import Foundation
import TestSupport
import Testing

@testable import Layers

/// A corpus of hostile tars, made by Python's tarfile (an independent writer that does what it is told), each
/// refused or contained, with nothing written outside the target.
@Suite struct HostileTarTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        /// Python statements using `t` (an open TarFile), `add_file(name, data)`, `add_link`, `add_symlink`.
        let script: String
        /// Words the refusal must contain; nil when the entry is allowed but must stay inside the target.
        let refusal: String?
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "dot-dot path", script: "add_file('../escaped', b'x')", refusal: "contains \"..\""),
        Case(name: "nested dot-dot", script: "add_file('a/../../escaped', b'x')", refusal: "contains \"..\""),
        Case(name: "absolute path", script: "add_file('/tmp/cog-hostile-absolute', b'x')", refusal: "absolute path"),
        // Kept as a link, as Docker keeps it (a project's `weights -> ../../shared/weights`); what goes through it
        // resolves inside the root.
        Case(
            name: "symlink climbing out, then a file through it stays inside",
            script: "add_symlink('up', '../../..'); add_file('up/escaped', b'x')", refusal: nil),
        Case(
            name: "hard link to a host file", script: "add_link('pw', '../../../../etc/passwd')",
            refusal: "contains \"..\""),
        Case(
            name: "hard link to an absolute path", script: "add_link('pw', '/etc/passwd')",
            refusal: "absolute hard link target"),
        Case(name: "hard link to a missing path", script: "add_link('pw', 'etc/passwd')", refusal: "do not contain"),
        Case(name: "absurd size", script: "add_header('huge', 1 << 45)", refusal: "beyond the limit"),
        Case(
            name: "device node when devices are not allowed", script: "add_device('dev-null', 1, 3)",
            refusal: "device nodes"),
        Case(
            name: "absolute symlink then a file through it stays inside",
            script: "add_symlink('planted', '/'); add_file('planted/escaped', b'x')", refusal: nil),
        Case(
            name: "symlink planted to redirect a later entry",
            script: "add_symlink('planted', '__OUTSIDE__'); add_file('planted/escaped', b'x')",
            refusal: "is a symlink to a directory the image does not have"),
        Case(name: "whiteout of the parent", script: "add_file('.wh...', b'')", refusal: "malformed whiteout"),
    ]

    static let prelude = """
        import io, sys, tarfile
        t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
        def add_file(name, data):
            i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
        def add_symlink(name, target):
            i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
        def add_link(name, target):
            i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
        def add_device(name, major, minor):
            i = tarfile.TarInfo(name); i.type = tarfile.CHRTYPE; i.devmajor = major; i.devminor = minor; t.addfile(i)
        def add_header(name, size):
            i = tarfile.TarInfo(name); i.size = size; t.fileobj.write(i.tobuf(tarfile.PAX_FORMAT)); t.offset += 512
        """

    @Test(arguments: cases)
    func refusedOrContained(_ hostile: Case) throws {
        let dir = try TemporaryDirectory()
        let outside = "\(dir.path)/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let target = "\(dir.path)/a/b/target"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let script =
            Self.prelude + "\n" + hostile.script.replacingOccurrences(of: "__OUTSIDE__", with: outside)
            + "\nt.close()\n"
        let tarPath = "\(dir.path)/hostile.tar"
        let made = try runCommand(["python3", "-c", script, tarPath])
        #expect(made.status == 0, "\(made.stderr)")
        var extractor = LayerExtractor(target: target)
        extractor.allowDevices = false
        extractor.maxEntrySize = 1 << 40
        if let refusal = hostile.refusal {
            do {
                try extractor.extract(layerPath: tarPath)
                Issue.record("\(hostile.name) was not refused")
            } catch let error as LayersError {
                #expect(error.description.contains(refusal), "\(error)")
                #expect(error.description.hasPrefix("refused tar entry"), "\(error)")
            }
        } else {
            try extractor.extract(layerPath: tarPath)
            #expect(FileManager.default.fileExists(atPath: "\(target)/escaped"))
        }
        // Nothing anywhere outside the target changed.
        let everything = try runCommand([
            "sh", "-c", "cd \(dir.path) && find . -path ./a/b/target -prune -o -print | sort",
        ]).stdout
        #expect(everything == ".\n./a\n./a/b\n./hostile.tar\n./outside\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/cog-hostile-absolute"))
    }
}
