import Foundation
import TestSupport
import Testing

/// Rootless builds with a subordinate id range: cog re-executes itself in a user namespace where the caller is
/// root and ids 1… are the range, so files keep their owners in the layer store, in steps and in the layers.
@Suite(.serialized) struct SubordinateIDTests {
    static var canRun: Bool {
        isRoot && commandExists("setpriv") && commandExists("newuidmap") && commandExists("useradd")
    }

    /// The test model's cog.yaml: cowsay, a step that prints the owner of /etc/shadow, then `lastStep`.
    static func config(lastStep: String?) -> String {
        let steps = lastStep.map { ["stat -c 'owner of shadow: %U:%G' /etc/shadow", $0] } ?? []
        let run =
            steps.isEmpty
            ? "" : "  run:\n" + steps.map { "    - '\($0.replacingOccurrences(of: "'", with: "''"))'\n" }.joined()
        return
            "build:\n  python_version: \"3.11\"\n  system_packages:\n    - \"cowsay\"\n\(run)predict: \"predict.py:Predictor\"\n"
    }

    /// A copy of cog the test user can run, in a directory it owns.
    static func setUp(_ label: String) throws -> (dir: TemporaryDirectory, cog: String) {
        let dir = try TemporaryDirectory(label)
        let cog = try copyForOtherUsers(executable: PipelineTests.cog, in: dir)
        let (uid, gid) = try SubordinateIDUser.ensure()
        _ = try runCommand(["chown", "-R", "\(uid):\(gid)", dir.path])
        return (dir, cog)
    }

    @Test func unshareRunsInTheSubordinateMapping() throws {
        guard Self.canRun else { return }
        let (dir, cog) = try Self.setUp("unshare")
        let user = try SubordinateIDUser.command(home: dir.path)
        let inside = try runCommand(
            user + [cog, "unshare", "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map"])
        #expect(inside.status == 0, "\(inside.output)")
        let lines = inside.stdout.split(separator: "\n").map {
            $0.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        let (uid, gid) = try SubordinateIDUser.ensure()
        let first = SubordinateIDUser.firstID
        let count = SubordinateIDUser.count
        #expect(
            lines == ["0", "0 \(uid) 1", "1 \(first) \(count)", "0 \(gid) 1", "1 \(first) \(count)"], "\(inside.output)"
        )
        // A file given to uid 1000 inside belongs to the matching subordinate id outside.
        let chown = try runCommand(
            user + [cog, "unshare", "sh", "-c", "touch \(dir.path)/f && chown 1000:1000 \(dir.path)/f"])
        #expect(chown.status == 0, "\(chown.output)")
        var st = stat()
        #expect(stat("\(dir.path)/f", &st) == 0 && st.st_uid == first + 999 && st.st_gid == first + 999)
    }

    @Test func singleMappingWhenForcedOrWhenMappingFails() throws {
        guard Self.canRun else { return }
        let (dir, cog) = try Self.setUp("single")
        let (uid, _) = try SubordinateIDUser.ensure()
        let forced = try runCommand(
            try SubordinateIDUser.command(home: dir.path, environment: ["COG_ROOTLESS": "single"]) + [
                cog, "unshare", "id", "-u",
            ])
        #expect(forced.stdout == "\(uid)\n", "\(forced.output)")
        // A newuidmap that refuses (as it does for a range that is not the caller's): a warning, then the single mapping.
        try dir.write("fake/newuidmap", "#!/bin/sh\necho 'newuidmap: refused' >&2\nexit 1\n", mode: 0o755)
        try dir.write("fake/newgidmap", "#!/bin/sh\nexit 1\n", mode: 0o755)
        _ = try runCommand(["chmod", "-R", "a+rx", "\(dir.path)/fake"])
        let refused = try runCommand(
            try SubordinateIDUser.command(home: dir.path, environment: ["PATH": "\(dir.path)/fake:/usr/bin:/bin"]) + [
                cog, "unshare", "id", "-u",
            ])
        #expect(refused.status == 0, "\(refused.output)")
        #expect(refused.stdout == "\(uid)\n", "\(refused.output)")
        #expect(refused.stderr.contains("newuidmap could not map the subordinate id range"), "\(refused.stderr)")
    }

    @Test func buildKeepsOwnersAndCleansUpInsideTheNamespace() throws {
        guard Self.canRun else { return }
        let registry = try PipelineTests.registryWithBase()
        let (dir, cog) = try Self.setUp("subid-build")
        try dir.write(
            "model/cog.yaml",
            Self.config(
                lastStep:
                    #"useradd -u 1234 -m alice && install -d -o alice -g alice -m 0700 /home/alice/private && runuser -u alice -- sh -c 'echo note > /home/alice/private/note' && echo "alice is $(runuser -u alice -- id -u)""#
            ))
        try dir.write(
            "model/predict.py",
            """
            from cog import BasePredictor

            class Predictor(BasePredictor):
                def predict(self, name: str) -> str:
                    return f"hello, {name}"
            """)
        let (uid, gid) = try SubordinateIDUser.ensure()
        _ = try runCommand(["chown", "-R", "\(uid):\(gid)", dir.path])
        let user = try SubordinateIDUser.command(
            home: dir.path,
            environment: [
                "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
            ])
        let project = "\(dir.path)/model"
        let build = try runCommand(
            user + [cog, "build", "--oci-out", "\(dir.path)/out", "-t", "subid", "--progress", "plain"],
            directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(
            build.stderr.contains("mapped to the subordinate ranges \(SubordinateIDUser.firstID)+"),
            "\(build.stderr.prefix(2000))")
        // The base's group-owned files keep their group, and a step can switch to another user (a single mapping can do neither).
        #expect(build.stderr.contains("owner of shadow: root:shadow"), "\(build.stderr.suffix(3000))")
        #expect(build.stderr.contains("alice is 1234"), "\(build.stderr.suffix(3000))")
        #expect(
            FileManager.default.fileExists(atPath: "\(dir.path)/cache/layers")
                && !FileManager.default.fileExists(atPath: "\(dir.path)/cache/layers-single"))

        // The layer records alice's files as 1234, and an independent unpacker (as root) gives them to 1234.
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        var st = stat()
        #expect(
            stat("\(dir.path)/bundle/rootfs/home/alice/private/note", &st) == 0 && st.st_uid == 1234
                && st.st_gid == 1234)
        #expect(stat("\(dir.path)/bundle/rootfs/home/alice/private", &st) == 0 && st.st_mode & 0o777 == 0o700)
        #expect(stat("\(dir.path)/bundle/rootfs/usr/games/cowsay", &st) == 0 && st.st_uid == 0)

        let predict = try runCommand(user + [cog, "predict", "subid", "-i", "name=subordinate"], directory: project)
        #expect(predict.stdout == "hello, subordinate\n", "\(predict.output.suffix(2000))")

        // Interrupted builds: the step's files belong to subordinate ids, so only cog inside the namespace can
        // remove them.
        let marker = "61\(Int.random(in: 1000...9999))"
        try dir.write(
            "model/cog.yaml",
            Self.config(
                lastStep:
                    "install -d -o 4321 /opt/left && touch /opt/left/behind && chown 4321 /opt/left/behind && sleep \(marker)"
            ))
        _ = try runCommand(["chown", "-R", "\(uid):\(gid)", project])
        /// Starts the build, waits for the step's sleep, sends `signal` to the process `victim` picks, and waits
        /// until the sleep is gone; returns whether it went.
        func interruptedBuild(_ victim: (pid_t) throws -> pid_t, signal: Int32) throws -> Bool {
            let log = "\(dir.path)/killed.log"
            let pid = try spawnDetached(
                user + [cog, "build", "-f", "\(project)/cog.yaml", "--progress", "plain"], log: log)
            var started = false
            for _ in 0..<600 where !started {
                usleep(100_000)
                started = !(try runCommand(["pgrep", "-f", "^sleep \(marker)$"]).stdout.isEmpty)
            }
            #expect(started, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            let target = try victim(pid)
            guard target > 1 else {  // never kill(-1) or kill(0)
                Issue.record("no process to signal")
                kill(pid, SIGKILL)
                return false
            }
            kill(target, signal)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            var gone = false
            for _ in 0..<100 where !gone {
                usleep(100_000)
                gone = try runCommand(["pgrep", "-f", "^sleep \(marker)$"]).stdout.isEmpty
            }
            return gone
        }
        let stepFiles = {
            try runCommand(["find", "\(dir.path)/cache/scratch", "-uid", "\(SubordinateIDUser.firstID + 4320)"]).stdout
        }
        // kill -9 of cog's first process: the build in the namespace is told (SIGTERM), stops the step and cleans up.
        #expect(try interruptedBuild({ $0 }, signal: SIGKILL), "the step's processes end with cog")
        #expect(try stepFiles().isEmpty, "the interrupted build removed its step's files")
        // kill -9 of the build itself (a crash): the step dies with it, and its files stay until the next build.
        let inner = { (first: pid_t) throws -> pid_t in  // the re-executed cog is the only child of the first process
            try runCommand(["pgrep", "-P", "\(first)"]).stdout.split(separator: "\n").first.flatMap { pid_t($0) } ?? 0
        }
        #expect(try interruptedBuild(inner, signal: SIGKILL), "the step's processes end with cog")
        #expect(!(try stepFiles().isEmpty), "the killed step left files owned by a subordinate id")
        try dir.write("model/cog.yaml", Self.config(lastStep: nil))
        _ = try runCommand(["chown", "-R", "\(uid):\(gid)", project])
        let rebuild = try runCommand(user + [cog, "build", "--progress", "plain"], directory: project)
        #expect(rebuild.status == 0, "\(rebuild.output.suffix(2000))")
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir.path)/cache/scratch")) ?? []
        #expect(scratch.isEmpty, "stale scratch dirs removed: \(scratch)")

        // The caller cannot remove the cache directly (files of subordinate ids), but can through cog unshare.
        let direct = try runCommand(user + ["rm", "-rf", "\(dir.path)/cache"])
        #expect(direct.status != 0)
        let unshared = try runCommand(user + [cog, "unshare", "rm", "-rf", "\(dir.path)/cache"])
        #expect(unshared.status == 0, "\(unshared.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/cache"))
    }
}
