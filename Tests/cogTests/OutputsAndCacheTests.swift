import Foundation
import OCI
import TestSupport
import Testing

/// Outputs that never destroy user data, a cache that never ships corrupt bytes, and a cache shared by builds
/// running at once or on a full disk, through the `cog` binary.
@Suite(.serialized) struct OutputsAndCacheTests {
    static let small =
        "build:\n  python_version: \"3.11\"\n  run:\n    - echo built > /built\npredict: \"predict.py:Predictor\"\n"

    @Test func outputsNeverReplaceWhatIsThereAndCorruptBlobsNeverShip() throws {
        let scene = try Scene("outputs")
        let project = try scene.project("model", Self.small, files: ["notes.txt": "mine\n"])

        // MARK: refused before building: the project itself, a folder of other files, a file that is no tar
        for (flag, target, reason) in [
            ("--oci-out", project, "the directory holds other files (cog.yaml, notes.txt, predict.py)"),
            ("--docker-archive", "\(project)/cog.yaml", "the file exists and is not a tar archive"),
        ] {
            let refused = try scene.cog(["build", flag, target], in: project)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains(reason), "\(refused.stderr)")
            #expect(!refused.stderr.contains("FROM"), "refused before building")
        }
        #expect(try String(contentsOfFile: "\(project)/cog.yaml", encoding: .utf8) == Self.small)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: project).sorted() == [
                "cog.yaml", "notes.txt", "predict.py",
            ])

        // MARK: a new layout, then a second image added to it (as skopeo adds), blobs copied, not linked
        let out = "\(scene.dir.path)/out"
        let first = try scene.cog(["build", "--oci-out", out, "-t", "model:v1"], in: project)
        #expect(first.status == 0, "\(first.stderr.suffix(2000))")
        try scene.dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'v2'\n"
        )
        let second = try scene.cog(["build", "--oci-out", out, "-t", "model:v2"], in: project)
        #expect(second.status == 0, "\(second.stderr.suffix(2000))")
        let layout = try OCILayout.open(out)
        let v1 = try layout.image(named: "v1")
        let v2 = try layout.image(named: "v2")
        try layout.verify(v1)
        try layout.verify(v2)
        let cache = BlobStore(root: "\(scene.dir.path)/cache/blobs")
        let layered = v2.configuration.history?.filter { $0.emptyLayer != true } ?? []
        let step = try #require(layered.firstIndex { $0.createdBy?.contains("echo built") == true })
        let layer = v2.manifest.layers[step]
        var inLayout = stat()
        var inCache = stat()
        #expect(
            stat(layout.blobs.path(for: layer.digest), &inLayout) == 0
                && stat(cache.path(for: layer.digest), &inCache) == 0)
        #expect(inLayout.st_ino != inCache.st_ino, "a copy, never a hard link into the cache")

        // MARK: a flipped byte in the cache is found, removed, built again: never copied out
        try flipByte(in: cache.path(for: layer.digest), at: UInt64(layer.size / 2))
        let fresh = "\(scene.dir.path)/fresh"
        let rebuilt = try scene.cog(["build", "--oci-out", fresh, "--progress", "plain"], in: project)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr.suffix(2000))")
        #expect(rebuilt.stderr.contains("warning: blob \(layer.digest) is corrupt"), "\(rebuilt.stderr.suffix(2000))")
        #expect(rebuilt.stderr.contains("it was removed from the cache, to be built or fetched anew; building again"))
        let validated = try runCommand(["oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", fresh])
        #expect(validated.status == 0, "\(validated.output)")
        try cache.verify(layer.digest, size: layer.size)

        // MARK: nor pushed: found before upload, rebuilt, and the registry gets the right bytes
        try flipByte(in: cache.path(for: layer.digest), at: 10)
        let target = "\(scene.registry.address)/outputs/model:v2"
        let pushed = try scene.cog(["push", target, "--progress", "plain"], in: project)
        #expect(pushed.status == 0, "\(pushed.stderr.suffix(2000))")
        #expect(pushed.stderr.contains("warning: blob \(layer.digest) is corrupt"))
        let copied = try runCommand([
            "skopeo", "copy", "--src-tls-verify=false", "docker://\(target)", "dir:\(scene.dir.path)/pulled",
        ])
        #expect(copied.status == 0, "\(copied.output)")
    }

    @Test func twoColdBuildsShareOneCache() throws {
        let scene = try Scene("concurrent")
        var projects: [String] = []
        for (name, package) in [("one", "cowsay"), ("two", "sl")] {
            projects.append(
                try scene.project(
                    name,
                    "build:\n  python_version: \"3.11\"\n  system_packages: [\"\(package)\"]\npredict: \"predict.py:Predictor\"\n"
                ))
        }
        let runs = projects.map { project in
            try? spawnDetached(
                ["env"] + scene.environment.map { "\($0.key)=\($0.value)" }
                    + [
                        Scene.cog, "build", "-f", "\(project)/cog.yaml", "--oci-out", "\(project)-out", "--progress",
                        "plain",
                    ],
                log: "\(project).log")
        }
        for (pid, project) in zip(runs, projects) {
            var status: Int32 = -1
            if let pid { waitpid(pid, &status, 0) }
            let log = (try? String(contentsOfFile: "\(project).log", encoding: .utf8)) ?? ""
            #expect(status == 0, "\(log.suffix(3000))")
            #expect(!log.contains("Could not get lock"))
            let validated = try runCommand([
                "oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(project)-out",
            ])
            #expect(validated.status == 0, "\(validated.output)")
        }
        let names = try OCILayout.open("\(scene.dir.path)/cache/images").index().manifests.compactMap {
            $0.annotations?[Descriptor.refNameAnnotation]
        }
        #expect(Set(names) == ["cog-one", "cog-two"], "both builds named their image in the shared store")
    }

    @Test(.enabled(if: isRoot)) func aFullDiskIsAClearErrorAndTheNextBuildWorks() throws {
        var scene = try Scene("enospc")
        let cache = "\(scene.dir.path)/small-disk"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let mount = try runCommand(["mount", "-t", "tmpfs", "-o", "size=700m", "tmpfs", cache])
        try #require(mount.status == 0, "\(mount.output)")
        defer { _ = try? runCommand(["umount", cache]) }
        scene.environment["COG_CACHE_DIR"] = "\(cache)/cog"
        let project = try scene.project("model", Self.small)
        let fits = try scene.cog(["build"], in: project)
        #expect(fits.status == 0, "\(fits.stderr.suffix(2000))")
        // A step whose output fits the disk once but not twice: its layer cannot be written.
        let free =
            try runCommand(["df", "--output=avail", "-B1M", cache]).stdout.split(separator: "\n").last.flatMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            } ?? 0
        try scene.dir.write(
            "model/cog.yaml",
            Self.small.replacingOccurrences(
                of: "echo built > /built", with: "head -c \(free * 6 / 10)M /dev/urandom > /big"))
        let full = try scene.cog(["build", "--progress", "plain"], in: project)
        #expect(full.status == 1)
        #expect(
            full.stderr.contains(
                "No space left on device (the disk is full: free space or point COG_CACHE_DIR elsewhere)"),
            "\(full.stderr.suffix(2000))")
        let leftovers = try runCommand([
            "find", cache, "-name", "*.tmp-*", "-o", "-name", ".incoming-*", "-o", "-path", "*/scratch/*",
        ])
        #expect(leftovers.stdout.isEmpty, "half-written files left: \(leftovers.stdout)")
        try scene.dir.write("model/cog.yaml", Self.small)
        let again = try scene.cog(["build", "--progress", "plain"], in: project)
        #expect(again.status == 0, "\(again.stderr.suffix(2000))")
    }
}
