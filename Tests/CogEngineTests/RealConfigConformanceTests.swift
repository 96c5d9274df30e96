import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// Every real cog.yaml in `<package>/../shared/real-cog-yaml` (from public model repositories) either plans or
/// fails with the error we defend below. Skipped when that folder is absent.
@Suite struct RealConfigConformanceTests {
    static let folder = URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent(
        "shared/real-cog-yaml"
    ).path
    static let available = FileManager.default.fileExists(atPath: folder)
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted()

    /// Files that must fail, by number, with (a part of) the first error and why that error is right.
    static let expectedFailures: [String: (message: String, why: String)] = [
        "004": (
            "cog doesn't know which CUDA version torch==2.13.0 needs",
            "torch 2.13.0 is newer than the tables (up to 2.11.0) and cuda is not set"
        ),
        "018": (
            "requirements file \"requirements.txt\" does not exist",
            "the source repository has no requirements.txt at that commit"
        ),
        "020": (
            "names a file on this machine in a form cog cannot copy into the image",
            "a file:// wheel; Cog rejects file: URLs too"
        ),
        "021": ("is not a valid image name: \"<\" is not allowed", "image holds the placeholder <R8_USERNAME>"),
        "023": ("torch version must be specified when using CUDA", "Cog's own test expects exactly this error"),
        "026": ("CUDA 10.0 is not supported", "CUDA 10.0 and Python 3.7 (2021 schema) are both unsupported"),
        "027": (
            "cog doesn't know which CUDA version torch==1.5.0 needs",
            "gpu with torch 1.5.0, older than the tables, and no cuda"
        ),
        "029": ("Python 3.7 is not supported", "Python 3.7"),
        "040": ("concurrency.max 64 needs Python 3.11 or newer", "concurrency with Python 3.10, as Cog refuses"),
        "041": ("concurrency must be a mapping with max", "concurrency: 10 instead of {max: 10}"),
        "042": ("cog.yaml must be a mapping of keys", "a symbolic link stored as its target text"),
        "047": ("invalid YAML: did not find expected <document start>", "the file starts with a Python docstring"),
        "048": ("Python 3.7 is not supported", "Python 3.7 and tensorflow 1.15 with gpu"),
        "051": ("CUDA 10.1 is not supported", "CUDA 10.1"),
        "052": (
            "CUDA 11.5.1 has no nvidia/cuda image", "nvidia/cuda has 11.5.2 only; Cog matches patch versions exactly"
        ),
        "056": ("torch version must be specified when using CUDA", "unpinned torch with gpu, as Cog refuses"),
    ]

    @Test(.enabled(if: available), arguments: files)
    func plansOrFailsAsDefended(_ file: String) throws {
        let project = try Self.project(for: file)
        let number = String(file.prefix(3))
        do {
            let loaded = try ConfigLoader.load(projectDirectory: project.path)
            let plan = try BuildPlanner.plan(config: loaded.config, projectDirectory: project.path)
            #expect(Self.expectedFailures[number] == nil, "\(file) planned but was expected to fail")
            #expect(plan.dockerfile().contains("\nFROM \(plan.baseImage)\n"))
            #expect(plan.image.labels[BuildPlan.Label.config]?.hasPrefix("{\"build\":") == true)
        } catch {
            guard let expected = Self.expectedFailures[number] else {
                Issue.record("\(file) failed:\n\(error.description)")
                return
            }
            #expect(
                error.diagnostics.first?.message.contains(expected.message) == true, "\(file): \(error.description)")
            #expect(
                error.diagnostics.allSatisfy { $0.mark != nil && $0.sourceLine != nil },
                "\(file): an error has no position")
        }
    }

    @Test(.enabled(if: available)) func everyExpectedFailureNamesAFile() {
        for number in Self.expectedFailures.keys {
            #expect(Self.files.contains { $0.hasPrefix(number) }, "no real config numbered \(number)")
        }
    }

    /// A project with the file as cog.yaml and its requirements (and overrides) file under the name it uses.
    static func project(for file: String) throws -> TemporaryDirectory {
        let stem = String(file.dropLast(".yaml".count))
        let yaml = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)
        let project = try TemporaryDirectory("cog-real")
        try project.write("cog.yaml", yaml)
        let name = yaml.split(separator: "\n").first {
            $0.contains("python_requirements:") && !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#")
        }
        .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }
        for (suffix, target) in [("-requirements.txt", name), ("-overrides.txt", "overrides.txt")] {
            let source = "\(folder)/\(stem)\(suffix)"
            if let target, FileManager.default.fileExists(atPath: source) {
                try project.write(target, String(contentsOfFile: source, encoding: .utf8))
            }
        }
        return project
    }
}
