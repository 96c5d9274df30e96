import Foundation
import TestSupport
import Testing

/// `--cache-to` and `--cache-from`: two cache directories and one loopback registry stand for two machines; the
/// second runs no step and gets the same image, and a cache that is down or failing only costs one warning.
@Suite(.serialized) struct RegistryCacheTests {
    /// A step whose layer differs on every run (its clock, to the nanosecond): equal images prove it did not run.
    static let yaml = """
        build:
          python_version: "3.11"
          run:
            - date +%s.%N > /stamp
        predict: "predict.py:Predictor"

        """

    /// `=> [i/n] RUN …` lines of plain progress output.
    static func runLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("=> [") && $0.contains("] RUN ") }
    }

    /// The manifest digest `cog build` prints last on standard output.
    static func digest(_ stdout: String) -> String {
        String(stdout.split(separator: "\n").last ?? "")
    }

    @Test func aSecondMachineRunsNoStepAndBuildsTheSameImage() throws {
        let scene = try Scene("registry-cache")
        let cache = "\(scene.registry.address)/cache/model"
        // Two checkouts at different paths, two cache directories: two machines.
        let machineA = try scene.project("a/model", Self.yaml)
        let machineB = try scene.project("b/checkout/model", Self.yaml)

        // MARK: machine A builds and exports every step
        let first = try scene.cog(
            ["build", "--cache-to", cache, "--progress", "plain"], in: machineA,
            extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-a"])
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")
        let steps = Self.runLines(first.stderr).count
        #expect(steps >= 4, "\(first.stderr.suffix(3000))")
        #expect(
            first.stderr.contains(
                "registry cache \(cache): \(steps) steps stored, 0 there already; the whole build stored"),
            "\(first.stderr.suffix(2000))")

        // MARK: machine B imports every step: none runs, the image is the same
        let second = try scene.cog(
            ["build", "--cache-from", cache, "--progress", "plain"], in: machineB,
            extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-b"])
        #expect(second.status == 0, "\(second.stderr.suffix(3000))")
        let lines = Self.runLines(second.stderr)
        #expect(lines.count == steps)
        #expect(lines.allSatisfy { $0.hasSuffix("(cached)") }, "\(lines)")
        #expect(!second.stderr.contains("ran in"), "no step ran: \(second.stderr.suffix(3000))")
        #expect(
            second.stderr.components(separatedBy: "imported from the registry cache \(cache) (").count - 1 == steps,
            "\(second.stderr.suffix(3000))")
        #expect(warningLines(second.stderr).isEmpty, "\(second.stderr.suffix(2000))")
        #expect(Self.digest(second.stdout) == Self.digest(first.stdout), "the same image on both machines")
        // The whole build was exported: machine B neither unpacked a layer nor ran Python for the metadata.
        #expect(second.stderr.contains("the whole build was in the step cache: nothing unpacked, nothing run"))
        let unpacked = (try? FileManager.default.contentsOfDirectory(atPath: "\(scene.dir.path)/cache-b/layers/sha256"))
        #expect((unpacked ?? []).isEmpty, "layers unpacked on machine B: \(unpacked ?? [])")

        #expect(Self.digest(first.stdout).hasPrefix("sha256:"))

        // MARK: entries are never replaced: exporting again (from a push, in BuildKit's form) stores nothing
        let again = try scene.cog(
            [
                "push", "\(scene.registry.address)/models/model:v1", "--cache-to",
                "type=registry,ref=\(cache),mode=max", "--progress", "plain",
            ], in: machineB, extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-b"])
        #expect(again.status == 0, "\(again.stderr.suffix(3000))")
        #expect(
            again.stderr.contains(
                "registry cache \(cache): 0 steps stored, \(steps) there already; the whole build there already"),
            "\(again.stderr.suffix(2000))")
        #expect(again.stdout.contains("@\(Self.digest(first.stdout))"), "the same image pushed: \(again.stdout)")

        // MARK: a cache that is down and one that answers 500: one warning each, the next source still used
        let closed = try closedPort()
        let failing = try BackgroundProcess(
            [
                "python3", "\(packageRoot)/testdata/registry/fault-proxy.py", "--target", scene.registry.address,
                "--dir", "{DIR}", "--faults", "status500:EVERY=1",
            ], label: "failing-cache")
        let down = "127.0.0.1:\(closed)/cache/model"
        let refusing = "127.0.0.1:\(failing.port)/cache/model"
        let third = try scene.cog(
            [
                "build", "--cache-from", down, "--cache-from", cache, "--cache-to", refusing, "--progress", "plain",
            ], in: machineB, extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-c"])
        #expect(third.status == 0, "\(third.stderr.suffix(3000))")
        let warnings = warningLines(third.stderr)
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("warning: registry cache \(down) cannot be used: ") }, "\(warnings)")
        #expect(
            warnings.contains { $0.hasPrefix("warning: registry cache \(refusing) cannot be used: ") }, "\(warnings)")
        #expect(!third.stderr.contains("ran in"), "the working cache still served every step")
        #expect(Self.digest(third.stdout) == Self.digest(first.stdout))

        // MARK: a cache whose downloads break off mid-transfer, every time: one warning, the steps run here
        let breaking = try BackgroundProcess(
            [
                "python3", "\(packageRoot)/testdata/registry/fault-proxy.py", "--target", scene.registry.address,
                "--dir", "{DIR}", "--faults", "cut-download:AFTER=100000:COUNT=1000",
            ], label: "breaking-cache")
        let broken = "127.0.0.1:\(breaking.port)/cache/model"
        let fourth = try scene.cog(
            ["build", "--cache-from", broken, "--progress", "plain"], in: machineB,
            extra: ["COG_CACHE_DIR": "\(scene.dir.path)/cache-d"])
        #expect(fourth.status == 0, "\(fourth.stderr.suffix(3000))")
        let brokenWarnings = warningLines(fourth.stderr)
        #expect(brokenWarnings.count == 1, "\(brokenWarnings)")
        #expect(brokenWarnings.first?.hasPrefix("warning: registry cache \(broken) cannot be used: ") == true)
        #expect(fourth.stderr.contains("ran in"), "the steps ran here")
        #expect(breaking.log.contains { $0.contains("cut-download") }, "a download was cut: \(breaking.log)")
    }

    @Test func aCacheThatIsGoneOnlySlowsTheBuild() throws {
        let scene = try Scene("registry-cache-down")
        let project = try scene.project("model", Self.yaml)
        let down = "127.0.0.1:\(try closedPort())/cache/model"
        let result = try scene.cog(
            ["build", "--cache-from", down, "--cache-to", down, "--progress", "plain"], in: project)
        #expect(result.status == 0, "\(result.stderr.suffix(3000))")
        let warnings = warningLines(result.stderr)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("warning: registry cache \(down) cannot be used: ") == true, "\(warnings)")
        #expect(result.stderr.contains("ran in"), "the steps ran here")
    }

    @Test func flagsAreCheckedBeforeBuilding() throws {
        let scene = try Scene("registry-cache-flags")
        let project = try scene.project("model", Self.yaml)
        for (value, reason) in [
            ("type=local,dest=/tmp/x", "only type=registry caches are supported"),
            ("127.0.0.1:5000/cache@sha256:\(String(repeating: "0", count: 64))", "leave out the @digest"),
            ("127.0.0.1:5000/Cache", "may only use lowercase letters"),
        ] {
            let refused = try scene.cog(["build", "--cache-from", value], in: project)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(reason), "\(refused.stderr)")
            #expect(!refused.stderr.contains("FROM"), "refused before building")
        }
    }
}

/// A loopback port nothing listens on (bound, then closed).
func closedPort() throws -> String {
    let result = try runCommand([
        "python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
    ])
    guard result.status == 0 else { throw TestSetupError("no free port: \(result.output)") }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}
