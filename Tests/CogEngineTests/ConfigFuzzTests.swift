import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// The real cog.yaml files of `../shared/real-cog-yaml`, mutated at random (seeded, so a failure replays): the
/// loader never crashes and answers each within a second of CPU time, in-process for thousands of mutants and
/// through `cog debug` for a sample (which must never die by a signal). Hostile inputs too: alias bombs, huge
/// files, bytes that are not UTF-8, duplicate keys, tabs — each a located error.
@Suite struct ConfigFuzzTests {
    static let seeds: [(name: String, bytes: [UInt8], requirements: Data?)] = RealConfigConformanceTests.files.map {
        name in
        let folder = RealConfigConformanceTests.folder
        let bytes = [UInt8](FileManager.default.contents(atPath: "\(folder)/\(name)") ?? Data())
        let requirements = FileManager.default.contents(
            atPath: "\(folder)/\(name.dropLast(".yaml".count))-requirements.txt")
        return (name, bytes, requirements)
    }

    /// Pieces of YAML syntax the mutations splice in.
    static let fragments = [
        "&a ", "*a", "<<: *a\n", "!!binary ", "!!python/object:os.system ", "{", "}", "[", "]", ": ", "- ", "\t",
        "---\n", "...\n", "%YAML 1.1\n", "? ", "|\n", ">-\n", "\"", "'", "#", ",", "\\u0000", "\u{0}", "\u{FEFF}",
        "build:\n", "python_version: 3.99\n", "  run:\n    - command: x\n      mounts: [{type: secret}]\n",
        "predict: \"predict.py:P\"\n", "gpu: yes\n", "~", "null", "0x1F", "1e400", "-.inf", "é", "\r\n",
    ]

    /// A deterministic generator (SplitMix64), so every mutant can be reproduced from the seed.
    struct Mixer: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ input: [UInt8], using random: inout Mixer) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0 where at < bytes.count: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, at + Int.random(in: 1...40, using: &random))
                if at < end { bytes.removeSubrange(at..<end) }
            case 3: bytes.insert(contentsOf: Array(fragments.randomElement(using: &random)!.utf8), at: at)
            case 4:  // repeat a line (duplicate keys, long lists)
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                guard let line = lines.randomElement(using: &random) else { continue }
                let copies = [1, 2, 500].randomElement(using: &random)!
                bytes.insert(contentsOf: Array(repeating: Array(line) + [0x0A], count: copies).joined(), at: at)
            case 5: bytes = Array(bytes.prefix(at))
            case 6:  // re-indent with tabs or odd spaces
                bytes = bytes.map {
                    $0 == 0x20 && Bool.random(using: &random) && Bool.random(using: &random) ? 0x09 : $0
                }
            default:
                bytes.insert(
                    contentsOf: Array(repeating: UInt8(ascii: "["), count: Int.random(in: 1...200, using: &random)),
                    at: at)
            }
        }
        return bytes
    }

    /// CPU time of this thread, which other processes on the machine do not inflate.
    static func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    @Test(.enabled(if: RealConfigConformanceTests.available)) func thousandsOfMutantsInProcess() throws {
        var random = Mixer(state: 0xC06_2026)
        var slowest = (seconds: 0.0, seed: "")
        let project = try TemporaryDirectory("fuzz")
        for round in 0..<4000 {
            let seed = Self.seeds[round % Self.seeds.count]
            let mutant = Self.mutate(seed.bytes, using: &random)
            try seed.requirements.map { try $0.write(to: URL(fileURLWithPath: "\(project.path)/requirements.txt")) }
            let start = Self.cpuSeconds()
            do {
                _ = try ConfigLoader.load(data: Data(mutant), projectDirectory: project.path)
            } catch {
                #expect(!error.diagnostics.isEmpty, "round \(round) (\(seed.name)): an error without a diagnostic")
                #expect(error.diagnostics.count <= DiagnosticLog.limit + 1)
            }
            let elapsed = Self.cpuSeconds() - start
            if elapsed > slowest.seconds { slowest = (elapsed, "round \(round) of \(seed.name)") }
        }
        #expect(slowest.seconds < 1, "slowest: \(slowest.seconds) s of CPU (\(slowest.seed))")
    }

    @Test(.enabled(if: RealConfigConformanceTests.available)) func aSampleThroughCogDebugNeverDiesByASignal() throws {
        let cog = try cogExecutable()
        var random = Mixer(state: 0x5EED)
        let project = try TemporaryDirectory("fuzz-cli")
        for round in 0..<40 {
            let seed = Self.seeds.randomElement(using: &random)!
            try Data(Self.mutate(seed.bytes, using: &random)).write(
                to: URL(fileURLWithPath: "\(project.path)/cog.yaml"))
            // `timeout` stands in for a watchdog: 124 would mean a hang, 128+N a signal.
            let result = try runCommand(["timeout", "10", cog, "debug"], directory: project.path)
            #expect(
                result.status == 0 || result.status == 1,
                "round \(round) of \(seed.name): \(result.status) \(result.stderr.suffix(500))")
        }
    }

    /// Each hostile file by name (names, not bytes, are the test arguments: the report stays short).
    static let hostile: [String: (bytes: [UInt8], message: String, line: Int)] = [
        "alias bomb": (Array(aliasBomb.utf8), "expands to more than 100000 values (aliases repeat too much)", 6),
        "not UTF-8": (
            Array("build:\n  python_version: \"3.11\"\n  system_packages: [\"caf".utf8) + [0xE9, 0x22, 0x5D, 0x0A],
            "not valid UTF-8 (byte 0xE9)", 3
        ),
        "huge": (
            Array(("build:\n" + String(repeating: "  # padding\n", count: 120_000)).utf8), "larger than 1 MiB", 87382
        ),
        "duplicate key": (
            Array("build:\n  python_version: \"3.11\"\n  python_version: \"3.12\"\n".utf8),
            "\"python_version\" is set twice", 3
        ),
        "tab": (Array("build:\n\tpython_version: \"3.11\"\n".utf8), "invalid YAML", 2),
    ]

    @Test(arguments: ["alias bomb", "not UTF-8", "huge", "duplicate key", "tab"])
    func hostileFilesAreLocatedErrors(_ what: String) throws {
        let (bytes, message, line) = try #require(Self.hostile[what])
        let project = try makeProject(nil)
        #expect {
            try ConfigLoader.load(data: Data(bytes), projectDirectory: project.path)
        } throws: { error in
            guard let first = (error as? ConfigError)?.diagnostics.first else { return false }
            return first.message.contains(message) && first.mark?.line == line
        }
    }

    static let aliasBomb: String = {
        var lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
        for (previous, name) in zip("abcdefghijklm", "bcdefghijklmn") {
            lines.append(
                "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()
}
