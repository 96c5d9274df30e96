import Foundation
import TestSupport
import Testing

/// The confinement through the `cog` binary: a cog.yaml whose `run:` steps try the chroot escape and read the
/// loopback registry's catalogue, built as root and as `nobody`; `cog run` trying the same escape; and
/// `--network host` giving the host's network back, with a warning.
@Suite(.serialized) struct ConfinementBuildTests {
    /// A Python one-liner: the double-chroot escape, then a write to /tmp/NAME (the host's /tmp if it worked).
    static func escape(writing name: String) -> String {
        "import os; os.makedirs('/esc', exist_ok=True); os.chroot('/esc'); [os.chdir('..') for _ in range(40)]; os.chroot('.'); open('/tmp/\(name)', 'w').write('x')"
    }

    static func project(in dir: TemporaryDirectory, marker: String, registry: String) throws -> String {
        let reach =
            "python3 -c \"import urllib.request; urllib.request.urlopen('http://\(registry)/v2/_catalog', timeout=5)\" && echo 'registry REACHED' || echo 'registry unreachable'"
        let steps = ["python3 -c \"\(escape(writing: marker))\"", reach]
        let run = steps.map { "    - '\($0.replacingOccurrences(of: "'", with: "''"))'\n" }.joined()
        try dir.write(
            "model/cog.yaml", "build:\n  python_version: \"3.11\"\n  run:\n\(run)predict: \"predict.py:Predictor\"\n")
        try dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n"
        )
        return "\(dir.path)/model"
    }

    static func catalogueWasRead(_ registry: TestRegistry) -> Bool {
        ((try? String(contentsOfFile: "\(registry.directory.path)/registry.log", encoding: .utf8)) ?? "").contains(
            "_catalog")
    }

    @Test func hostileStepsOfABuildAsRootStayInside() throws {
        guard isRoot, commandExists("slirp4netns") else { return }
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("confined-build")
        let marker = "cog-hostile-build-\(UUID().uuidString.prefix(8))"
        let project = try Self.project(in: dir, marker: marker, registry: registry.address)
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
        ]
        let build = try runCommand(
            [PipelineTests.cog, "build", "-t", "confined", "--progress", "plain"], environment: environment,
            directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(
            build.stderr.contains(
                "running steps as root; confined: pivot_root, user namespace of their own, Docker's default capabilities, seccomp, own network through slirp4netns"
            ),
            "\(build.stderr.prefix(1500))")
        #expect(!build.stderr.contains("warning: weaker confinement"))
        #expect(
            build.stderr.contains("registry unreachable") && !build.stderr.contains("registry REACHED"),
            "\(build.stderr.suffix(2000))")
        #expect(!Self.catalogueWasRead(registry))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"), "the step wrote into the host's /tmp")

        // cog run: a command in the image is confined the same way.
        let ran = try runCommand(
            [
                PipelineTests.cog, "run", "--image", "confined", "python3", "-c",
                Self.escape(writing: "\(marker)-run") + "; print('ran')",
            ],
            environment: environment, directory: project)
        #expect(ran.status == 0 && ran.stdout.contains("ran"), "\(ran.output)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-run"), "cog run wrote into the host's /tmp")

        // --network host: today's behaviour, said once.
        let host = try runCommand(
            [PipelineTests.cog, "build", "--network", "host", "--no-cache", "--progress", "plain"],
            environment: environment, directory: project)
        #expect(host.status == 0, "\(host.output.suffix(3000))")
        #expect(
            host.stderr.components(
                separatedBy: "warning: weaker confinement: --network host: steps share the host's network"
            ).count == 2, "\(host.stderr.prefix(2000))")
        #expect(host.stderr.contains("registry REACHED"), "\(host.stderr.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"))
    }

    @Test func hostileStepsOfABuildAsNobodyStayInside() throws {
        guard isRoot, commandExists("setpriv"), commandExists("slirp4netns") else { return }
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("confined-nobody")
        let marker = "cog-hostile-nobody-\(UUID().uuidString.prefix(8))"
        let project = try Self.project(in: dir, marker: marker, registry: registry.address)
        let cog = try copyForOtherUsers(executable: PipelineTests.cog, in: dir)
        _ = try runCommand(["chown", "-R", "nobody:nogroup", dir.path])
        let build = try runCommand(
            [
                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(dir.path)",
                "COG_REGISTRY_MIRRORS=docker.io=\(registry.address)", "COG_CACHE_DIR=\(dir.path)/cache",
                cog, "build", "--progress", "plain",
            ], directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(
            build.stderr.contains(
                "confined: pivot_root, user namespace of their own, Docker's default capabilities, seccomp, own network through slirp4netns"
            ),
            "\(build.stderr.prefix(1500))")
        #expect(
            build.stderr.contains("registry unreachable") && !build.stderr.contains("registry REACHED"),
            "\(build.stderr.suffix(2000))")
        #expect(!Self.catalogueWasRead(registry))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"), "the step wrote into the host's /tmp")
    }
}
