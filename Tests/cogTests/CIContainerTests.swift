import Foundation
import OCI
import TestSupport
import Testing

/// Builds inside a stand-in for an unprivileged CI container (`testdata/ci-container`: root with Docker's
/// default capabilities, and a seccomp filter refusing new namespaces and every mount call): cog says it falls
/// back to chroot isolation and why, and still builds the image it builds elsewhere.
@Suite(.serialized) struct CIContainerTests {
    static var cog: String { PipelineTests.cog }

    static func container(in dir: TemporaryDirectory) throws -> String {
        let binary = "\(dir.path)/ci-container"
        let compile = try runCommand([
            "gcc", "-O1", "-o", binary, "\(packageRoot)/testdata/ci-container/ci-container.c",
        ])
        guard compile.status == 0 else { throw TestSetupError("gcc: \(compile.output)") }
        // The stand-in refuses what it should: a user namespace and a mount namespace.
        let probe = try runCommand([binary, "unshare", "--user", "--mount", "true"])
        guard probe.status != 0 else { throw TestSetupError("the stand-in container still allows unshare") }
        return binary
    }

    @Test func theImageBuiltInAContainerWithoutNamespacesIsTheSame() throws {
        guard isRoot, commandExists("gcc") else { return }
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("ci-container")
        let container = try Self.container(in: dir)
        let project = try PipelineTests.project(in: dir)
        try dir.write("token", "ci-secret")
        // The reference is captured the same way (by snapshots); overlay capture differs in what apt merely
        // rewrites (debconf's files), whatever the isolation.
        func build(_ prefix: [String], cache: String, out: String, capture: [String: String] = [:]) throws
            -> CommandResult
        {
            try runCommand(
                prefix + [
                    Self.cog, "build", "--oci-out", "\(dir.path)/\(out)", "-t", "ci", "--secret",
                    "id=token,src=\(dir.path)/token", "--progress", "plain",
                ],
                environment: [
                    "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/\(cache)",
                ].merging(capture) { $1 }, directory: project)
        }
        let confined = try build([container], cache: "cache-ci", out: "out-ci")
        #expect(confined.status == 0, "\(confined.output.suffix(3000))")
        #expect(confined.stderr.contains("no namespace or mount can be made here"), "it says why")
        #expect(confined.stderr.contains("confined: chroot only"), "it says which isolation")
        #expect(confined.output.contains("secret seen, 9 bytes"), "the secret reached the step")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out-ci:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        let rootfs = "\(dir.path)/bundle/rootfs"
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/usr/games/cowsay"), "apt ran")
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/opt/données.csv"))
        #expect(!FileManager.default.fileExists(atPath: "\(rootfs)/run/secrets/token"))
        let copy = try runCommand(["skopeo", "copy", "oci:\(dir.path)/out-ci:latest", "oci:\(dir.path)/copy:latest"])
        #expect(copy.status == 0, "\(copy.output)")
        // The same image as a build with every namespace: layer for layer, digest for digest.
        let full = try build([], cache: "cache-full", out: "out-full", capture: ["COG_CAPTURE": "snapshot"])
        #expect(full.status == 0, "\(full.output.suffix(3000))")
        #expect(!full.stderr.contains("chroot only"))
        let ci = try OCILayout.open("\(dir.path)/out-ci").image(named: "latest")
        let reference = try OCILayout.open("\(dir.path)/out-full").image(named: "latest")
        #expect(ci.manifest.layers.map(\.digest) == reference.manifest.layers.map(\.digest))
    }

    @Test func aStepCannotLeaveTheChrootOrReachTheBuildersProcesses() throws {
        guard isRoot, commandExists("gcc") else { return }
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("ci-container-hostile")
        let container = try Self.container(in: dir)
        let marker = "/tmp/cog-ci-escape-\(UUID().uuidString.prefix(8))"
        let script = """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            try:
                os.mkdir('/esc'); os.chroot('/esc'); print('chroot ALLOWED')
            except OSError as e:
                print('chroot refused', e.errno)
            print('ptrace', 'refused' if libc.ptrace(16, 1, 0, 0) != 0 else 'ALLOWED')
            try:
                os.kill(-1, 0); print('kill-all ALLOWED')
            except OSError as e:
                print('kill-all refused', e.errno)
            for _ in range(40): os.chdir('..')
            open('\(marker)', 'w').write('x')
            print('root holds', sorted(os.listdir('/'))[:3])
            """
        let encoded = Data(script.utf8).base64EncodedString()
        try dir.write(
            "model/cog.yaml",
            "build:\n  python_version: \"3.11\"\n  run:\n    - echo \(encoded) | base64 -d | python3\npredict: \"predict.py:Predictor\"\n"
        )
        try dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n"
        )
        let build = try runCommand(
            [container, Self.cog, "build", "--oci-out", "\(dir.path)/out", "--progress", "plain"],
            environment: [
                "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
            ], directory: "\(dir.path)/model")
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(build.output.contains("chroot refused 1"), "\(build.output.suffix(2000))")
        #expect(build.output.contains("ptrace refused"))
        #expect(build.output.contains("kill-all refused 1"), "kill(-1) would take cog and its sandbox with it")
        #expect(!FileManager.default.fileExists(atPath: marker), "the step wrote on the builder's /tmp")
    }
}
