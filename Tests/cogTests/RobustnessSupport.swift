import Foundation
import TestSupport

/// A loopback registry holding the base image, a scratch folder and the environment pointing cog at both.
struct Scene {
    let registry: TestRegistry
    let dir: TemporaryDirectory
    var environment: [String: String]
    static var cog: String { PipelineTests.cog }

    init(_ label: String) throws {
        registry = try PipelineTests.registryWithBase()
        dir = try TemporaryDirectory(label)
        // cog-base images are looked up in the loopback registry (which has none), never on r8.im.
        environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
            "COG_REGISTRY_HOST": registry.address,
        ]
    }

    /// A project folder `name` with `cog.yaml` and files; a predictor returning "ok" unless one is given.
    @discardableResult
    func project(_ name: String, _ yaml: String, files: [String: String] = [:]) throws -> String {
        try dir.write("\(name)/cog.yaml", yaml)
        var files = files
        if files["predict.py"] == nil {
            files["predict.py"] =
                "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'ok'\n"
        }
        for (file, text) in files { try dir.write("\(name)/\(file)", text) }
        return "\(dir.path)/\(name)"
    }

    /// Runs cog in `project` with this scene's environment (plus `extra`).
    func cog(_ arguments: [String], in project: String, extra: [String: String] = [:]) throws -> CommandResult {
        try runCommand(
            [Self.cog] + arguments, environment: environment.merging(extra) { $1 }, directory: project)
    }

    /// Starts `cog serve` (with `arguments`) in `project` on a free loopback port; its output goes to `serveLog`.
    func serve(_ project: String, _ arguments: [String] = []) throws -> (pid: pid_t, port: String) {
        let port = try closedPort()
        let variables = environment.map { "\($0.key)=\($0.value)" }
        let pid = try spawnDetached(
            ["env", "-C", project] + variables + [Self.cog, "serve", "-p", port, "--progress", "plain"] + arguments,
            log: "\(dir.path)/serve.log")
        return (pid, port)
    }

    /// What `cog serve` printed so far.
    var serveLog: String { (try? String(contentsOfFile: "\(dir.path)/serve.log", encoding: .utf8)) ?? "" }

    /// Polls the server's `/health-check` on `port` (up to 150 s) until it reports `status`; false when it never
    /// does or `pid` exits first.
    static func waitForHealth(port: String, status: String, pid: pid_t) throws -> Bool {
        for _ in 0..<600 {
            let health = try runCommand(["curl", "-sf", "http://127.0.0.1:\(port)/health-check"])
            if health.status == 0 && health.stdout.contains(status) { return true }
            var exit: Int32 = 0
            if waitpid(pid, &exit, WNOHANG) == pid { return false }
            usleep(250_000)
        }
        return false
    }

    /// Runs cog in `project` and samples its peak resident memory (`VmHWM`) until it exits: its own, not the
    /// model's or a step's (they are other processes).
    func cogMeasuringPeak(_ arguments: [String], in project: String) throws -> (
        status: Int32, log: String, peakKiB: Int
    ) {
        let log = "\(dir.path)/measured-\(UUID().uuidString.prefix(6)).log"
        let variables = environment.map { "\($0.key)=\($0.value)" }
        let quoted = ([Self.cog] + arguments).map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }
        let pid = try spawnDetached(
            [
                "sh", "-c",
                "cd '\(project)' && exec env \(variables.joined(separator: " ")) \(quoted.joined(separator: " "))",
            ],
            log: log)
        var peak = 0
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                peak = max(peak, kib)
            }
            usleep(20_000)
        }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exit, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", peak)
    }
}

/// Flips one bit of a file in place (a cache blob gone bad on disk).
func flipByte(in path: String, at offset: UInt64) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    let byte = try handle.read(upToCount: 1) ?? Data([0])
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: Data([byte[0] ^ 0x01]))
}

/// The `warning:` lines of a command's standard error, without the cog-base fallback every default build prints
/// where no cog-base image is found.
func warningLines(_ stderr: String) -> [Substring] {
    stderr.split(separator: "\n").filter {
        $0.hasPrefix("warning:") && !$0.hasPrefix("warning: Could not find a suitable base image")
    }
}
