import Foundation
import OCI
import TestSupport
import Testing

@testable import Layers

/// Steps run in the sandbox over a real Debian rootfs (debootstrapped by the test setup), with real packages.
@Suite(.serialized) struct RunnerTests {
    /// The base image's layers unpacked into a layer store under `dir`, top-most first.
    static func baseLowers(in dir: TemporaryDirectory) throws -> [String] {
        let layout = try OCILayout.open(try TestBaseImage.ensure())
        let image = try layout.image(named: "3.11-slim")
        let store = LayerStore(root: "\(dir.path)/layers")
        return try zip(image.manifest.layers, image.configuration.rootfs.diffIDs).map {
            try store.unpack(blob: layout.blobs.path(for: $0.0.digest), diffID: $0.1)
        }.reversed()
    }

    static let environment = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive",
        "HOME=/root",
    ]

    func run(_ command: String, lowers: [String], dir: TemporaryDirectory, timeout: Double? = nil) throws -> (
        StepRunner.Outcome, [String]
    ) {
        let runner = StepRunner(
            sandbox: Sandbox.forTests(), cacheRoot: "\(dir.path)/cache",
            host: ProcessInfo.processInfo.environment)
        let lines = LinesBox()
        let outcome = try runner.run(
            .init(
                command: ["/bin/sh", "-c", command], environment: Self.environment,
                caches: [("apt-lists", "/var/lib/apt/lists"), ("apt-cache", "/var/cache/apt")]),
            lowers: lowers, timeout: timeout
        ) { lines.add($0) }
        return (outcome, lines.all)
    }

    @Test func aptInstallsARealPackageIntoALayer() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let (outcome, output) = try run(
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends cowsay", lowers: lowers, dir: dir)
        #expect(outcome.status == 0, "\(output.suffix(20))")
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerCapture.capture(
            upper: outcome.upper, createdMountpoints: outcome.createdMountpoints, into: store, options: LayerOptions())
        let listing = try bsdtarList(store.path(for: layer.descriptor.digest))
        #expect(listing.contains("usr/games/cowsay"))
        #expect(!listing.contains("var/lib/apt/lists/"), "apt lists are a cache mount, never in the layer")
        #expect(!listing.contains("var/cache/apt/archives/"))
        #expect(!listing.contains("etc/resolv.conf"), "bind-mount targets stay out of the layer")
        // The cache mount kept the package lists for the next build.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/mounts/apt-lists").count > 1)
    }

    @Test func pipInstallsARealPyPIPackage() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let (outcome, output) = try run(
            "pip install --no-cache-dir -q six==1.16.0 && python3 -c 'import six; print(six.__version__)'",
            lowers: lowers, dir: dir)
        #expect(outcome.status == 0, "\(output.suffix(20))")
        #expect(output.contains("1.16.0"))
        let found = try runCommand(["sh", "-c", "find \(outcome.upper) -name 'six.py' | head -1"]).stdout
        #expect(found.contains("dist-packages/six.py") || found.contains("site-packages/six.py"), "\(found)")
    }

    @Test func deletionsAndReplacementsBecomeWhiteouts() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let (outcome, output) = try run(
            "rm /etc/debian_version && rm -rf /usr/share/doc && mkdir /usr/share/doc && echo new > /usr/share/doc/only",
            lowers: lowers, dir: dir)
        #expect(outcome.status == 0, "\(output)")
        let store = BlobStore(root: "\(dir.path)/blobs")
        let layer = try LayerCapture.capture(
            upper: outcome.upper, createdMountpoints: outcome.createdMountpoints, into: store, options: LayerOptions())
        let listing = try bsdtarList(store.path(for: layer.descriptor.digest))
        #expect(listing.contains("etc/.wh.debian_version"))
        #expect(listing.contains("usr/share/doc/.wh..wh..opq"))
        // Base + layer, flattened by our extraction: the deletions took effect.
        let layout = try OCILayout.open(TestBaseImage.layout)
        let base = try layout.image(named: "3.11-slim")
        let tree = "\(dir.path)/flat"
        for blob in base.manifest.layers {
            try LayerExtractor(target: tree).extract(layerPath: layout.blobs.path(for: blob.digest))
        }
        try LayerExtractor(target: tree).extract(layerPath: store.path(for: layer.descriptor.digest))
        #expect(!FileManager.default.fileExists(atPath: "\(tree)/etc/debian_version"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(tree)/usr/share/doc") == ["only"])
        #expect(FileManager.default.fileExists(atPath: "\(tree)/etc/os-release"))
    }

    @Test func fullTreeComparisonCapturesWhatTheOverlayCaptures() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let command =
            "rm /etc/debian_version && rm -rf /usr/share/doc && mkdir /usr/share/doc && echo new > /usr/share/doc/only && echo x > /etc/added && chmod 600 /etc/os-release"
        let (outcome, output) = try run(command, lowers: lowers, dir: dir)
        #expect(outcome.status == 0, "\(output)")
        let store = BlobStore(root: "\(dir.path)/blobs")
        let overlay = try LayerCapture.capture(
            upper: outcome.upper, createdMountpoints: outcome.createdMountpoints, into: store, options: LayerOptions())

        // The same step in a writable full tree, captured by comparing snapshots.
        let layout = try OCILayout.open(TestBaseImage.layout)
        let base = try layout.image(named: "3.11-slim")
        let full = "\(dir.path)/full"
        for blob in base.manifest.layers {
            try LayerExtractor(target: full).extract(layerPath: layout.blobs.path(for: blob.digest))
        }
        let before = try TreeSnapshot.take(full)
        var configuration = SandboxConfiguration(
            mountpoint: full, lowers: [], upper: nil, work: nil, command: ["/bin/sh", "-c", command])
        configuration.environment = Self.environment
        #expect(try Sandbox.forTests().run(configuration) { _ in }.status == 0)
        let snapshot = try LayerWriter.write(
            entries: try TreeSnapshot.take(full).changes(since: before), to: store, options: LayerOptions())
        let listing = try bsdtarList(store.path(for: snapshot.descriptor.digest))
        #expect(listing.contains("etc/.wh.debian_version"))
        #expect(listing.contains("usr/share/doc/.wh..wh..opq"))
        #expect(!listing.contains("usr/bin/python3"), "unchanged files stay out")

        // Both layers turn the base into the same tree.
        var trees: [String] = []
        for layer in [overlay, snapshot] {
            let tree = "\(dir.path)/flat-\(trees.count)"
            for blob in base.manifest.layers {
                try LayerExtractor(target: tree).extract(layerPath: layout.blobs.path(for: blob.digest))
            }
            try LayerExtractor(target: tree).extract(layerPath: store.path(for: layer.descriptor.digest))
            trees.append(
                try runCommand([
                    "sh", "-c",
                    "cd \(tree) && find . -path ./proc -prune -o -path ./dev -prune -o -printf '%p %y %m\\n' | sort",
                ]).stdout)
        }
        let overlayLines = Set(trees[0].split(separator: "\n"))
        let snapshotLines = Set(trees[1].split(separator: "\n"))
        #expect(
            overlayLines == snapshotLines,
            "only overlay: \(overlayLines.subtracting(snapshotLines).sorted().prefix(10)); only snapshot: \(snapshotLines.subtracting(overlayLines).sorted().prefix(10))"
        )
        #expect(trees[0].contains("./usr/lib/os-release f 600"), "chmod through the /etc/os-release symlink")
    }

    @Test func aLayerDirGivenTwiceIsMountedOnce() throws {
        // Two steps that change nothing give the same (empty) layer, and so the same dir in the stack.
        let dir = try TemporaryDirectory("runner")
        let base = try Self.baseLowers(in: dir)
        let empty = "\(dir.path)/layers/empty"
        let marked = "\(dir.path)/layers/marked"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try dir.write("layers/marked/etc/cog-marker", "between\n")
        let (outcome, output) = try run("cat /etc/cog-marker", lowers: [empty, marked, empty] + base, dir: dir)
        #expect(outcome.status == 0, "\(output)")
        #expect(output == ["between"])
    }

    @Test func aFailingStepReturnsItsExitCodeAndOutput() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let (outcome, output) = try run("echo about to fail; exit 3", lowers: lowers, dir: dir)
        #expect(outcome.status == 3)
        #expect(output == ["about to fail"])
    }

    /// Docker ends a RUN step when its command exits; what it left in the background is killed then.
    @Test func aStepEndsWhenItsCommandEnds() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let marker = "cog-test-left-\(UInt32.random(in: 0...UInt32.max))"
        let (outcome, output) = try run(
            "bash -c 'exec -a \(marker) sleep 1000' & echo done", lowers: lowers, dir: dir, timeout: 60)
        #expect(outcome.status == 0 && !outcome.timedOut, "the step waited for its background process")
        #expect(output == ["done"])
        #expect(try runCommand(["pgrep", "-f", marker]).stdout.isEmpty, "the background process was killed")
    }

    @Test func anInterruptedStepLeavesNoProcessOrMount() throws {
        let dir = try TemporaryDirectory("runner")
        let lowers = try Self.baseLowers(in: dir)
        let marker = "cog-test-sleep-\(UInt32.random(in: 0...UInt32.max))"
        let (outcome, _) = try run(
            "bash -c 'exec -a \(marker) sleep 300' & sleep 300", lowers: lowers, dir: dir, timeout: 2)
        #expect(outcome.timedOut)
        usleep(300_000)
        #expect(try runCommand(["pgrep", "-f", marker]).stdout.isEmpty)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(dir.path))
    }

    @Test func rootlessAsNobodyInstallsPackagesAndCapturesChanges() throws {
        guard isRoot, commandExists("setpriv") else { return }  // needs root to become nobody
        let dir = try TemporaryDirectory("rootless")
        let lowers = try Self.baseLowers(in: dir)
        for path in [dir.path, "\(dir.path)/layers"] { _ = try runCommand(["chown", "-R", "nobody:nogroup", path]) }
        try FileManager.default.createDirectory(atPath: "\(dir.path)/s/upper", withIntermediateDirectories: true)
        for sub in ["work", "root"] {
            try FileManager.default.createDirectory(atPath: "\(dir.path)/s/\(sub)", withIntermediateDirectories: true)
        }
        try "APT::Sandbox::User \"root\";\n".write(toFile: "\(dir.path)/apt.conf", atomically: true, encoding: .utf8)
        _ = try runCommand(["chown", "-R", "nobody:nogroup", "\(dir.path)/s", "\(dir.path)/apt.conf"])
        let executable = try copyForOtherUsers(
            executable: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), in: dir)
        var args = [
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", executable, "__sandbox",
            "--root", "\(dir.path)/s/root", "--upper", "\(dir.path)/s/upper", "--work", "\(dir.path)/s/work",
            "--userns", "single",
            "--tmpfs", "/run", "--ro-bind", "/etc/resolv.conf:/etc/resolv.conf",
            "--ro-bind", "\(dir.path)/apt.conf:/etc/apt/apt.conf.d/00cog-sandbox",
            "--ro-bind", "/etc/ssl/certs/ca-certificates.crt:/run/cog/ca.crt",
        ]
        for lower in lowers { args += ["--lower", lower] }
        for variable in Self.environment + ["PIP_CERT=/run/cog/ca.crt", "SSL_CERT_FILE=/run/cog/ca.crt"] {
            args += ["--setenv", variable]
        }
        args += [
            "--", "/bin/sh", "-c",
            "id -u && apt-get update -qq && apt-get install -y -qq --no-install-recommends cowsay && pip install --no-cache-dir -q six==1.16.0",
        ]
        let result = try runCommand(args)
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        #expect(result.stdout.hasPrefix("0\n"), "root inside the namespace")
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/s/upper/usr/games/cowsay"))
        let owner =
            try FileManager.default.attributesOfItem(atPath: "\(dir.path)/s/upper/usr/games/cowsay")[.ownerAccountID]
            as? Int
        #expect(owner == 65534, "files written by root inside belong to the caller outside")
        _ = try runCommand(["rm", "-rf", "\(dir.path)/s"])
    }
}

final class LinesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}
