import Foundation
import TestSupport
import Testing

/// The project's layers are cached by their files' identity (path, size, mtime, ctime, inode): an unchanged rebuild
/// compresses nothing again, and an edit is always seen, even one that keeps the size and puts the old mtime back
/// (as `rsync -t`, `cp -p` or an archive restore do).
@Suite(.serialized) struct ProjectLayerCacheTests {
    static let yaml = """
        build:
          python_version: "3.11"
        predict: "predict.py:Predictor"

        """

    @Test func anEditThatKeepsSizeAndMtimeStillReachesTheImage() throws {
        let scene = try Scene("project-layer-cache")
        let project = try scene.project("model", Self.yaml, files: ["data.txt": "first\n"])
        let first = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/one", "--progress", "plain"], in: project)
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")

        // Same size, same mtime to the nanosecond: only the change time (which no tool can set) tells.
        let edit = try runCommand([
            "python3", "-c",
            "import os,sys; p=sys.argv[1]; st=os.stat(p); open(p,'w').write('other\\n'); "
                + "os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))",
            "\(project)/data.txt",
        ])
        #expect(edit.status == 0, "\(edit.output)")
        let second = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/two", "--progress", "plain"], in: project)
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        #expect(!second.stderr.contains("the whole build was in the step cache"), "the code changed")
        #expect(
            RegistryCacheTests.digest(first.stdout) != RegistryCacheTests.digest(second.stdout),
            "a new image for new code")

        let unpack = try runCommand([
            "umoci", "unpack", "--image", "\(scene.dir.path)/two:latest", "\(scene.dir.path)/bundle",
        ])
        #expect(unpack.status == 0, "\(unpack.output)")
        let shipped = try String(contentsOfFile: "\(scene.dir.path)/bundle/rootfs/src/data.txt", encoding: .utf8)
        #expect(shipped == "other\n")

        // Unchanged since: the whole build comes from the step cache, the same image again.
        let third = try scene.cog(["build", "--progress", "plain"], in: project)
        #expect(third.status == 0, "\(third.stderr.suffix(3000))")
        #expect(third.stderr.contains("the whole build was in the step cache"), "\(third.stderr.suffix(2000))")
        #expect(RegistryCacheTests.digest(third.stdout) == RegistryCacheTests.digest(second.stdout))
    }
}
