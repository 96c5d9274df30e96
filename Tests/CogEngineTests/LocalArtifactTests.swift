import Foundation
import OCI
import TestSupport
import Testing

@testable import CogEngine

/// Package archives named by path in the requirements are copied in and installed from
/// /tmp/local_package_artifacts/, as Cog stages them; other local forms are refused with the fix.
@Suite struct LocalArtifactTests {
    let yaml =
        "build:\n  python_version: \"3.11\"\n  python_requirements: requirements.txt\npredict: \"predict.py:P\"\n"

    @Test func archivesInTheProjectAreCopiedAndInstalledFromTheImage() throws {
        let wheel = "wheels/demo-1.0-py3-none-any.whl"
        let staged = try plan(
            yaml,
            files: [
                "requirements.txt": "six==1.16.0\n\(wheel)\n./dist/other-2.0.tar.gz\n", wheel: "wheel bytes",
                "dist/other-2.0.tar.gz": "sdist bytes",
            ])
        guard let copy = staged.steps.first(where: { if case .copyArtifacts = $0 { true } else { false } }),
            case .copyArtifacts(let artifacts) = copy
        else {
            Issue.record("no copy step in \(staged.steps)")
            return
        }
        #expect(
            artifacts.map(\.target) == [
                "/tmp/local_package_artifacts/\(wheel)", "/tmp/local_package_artifacts/dist/other-2.0.tar.gz",
            ])
        #expect(try artifacts[0].sha256 == Digest.sha256(Data("wheel bytes".utf8)).encoded)
        #expect(
            staged.steps.contains(
                .copyFile(
                    path: "/tmp/requirements.txt",
                    contents: Array(
                        "six==1.16.0\n/tmp/local_package_artifacts/\(wheel)\n/tmp/local_package_artifacts/dist/other-2.0.tar.gz\n"
                            .utf8), mode: 0o644)))
        let summaries = runSteps(staged).map(\.summary)
        let install = try #require(summaries.firstIndex(of: "pip install -r requirements.txt"))
        #expect(summaries[install + 1] == "uninstall cog and coglet before the runtime")
        #expect(runSteps(staged)[install + 1].command == "python -m pip uninstall -y cog coglet")
        #expect(
            staged.dockerfile().contains(
                "\nCOPY --from=cog_build local_package_artifacts/ /tmp/local_package_artifacts/\n"))
        // A changed archive changes the step's cache key.
        let changed = try plan(yaml, files: ["requirements.txt": "\(wheel)\n", wheel: "other bytes"])
        let first = try plan(yaml, files: ["requirements.txt": "\(wheel)\n", wheel: "wheel bytes"])
        let key = { (p: BuildPlan) in
            p.steps.first { if case .copyArtifacts = $0 { true } else { false } }?.cacheKeyMaterial
        }
        #expect(key(changed) != key(first))
    }

    @Test func aNameWithSpacesIsStagedAsItIs() throws {
        let zip = "dist/local zip pkg-0.2.0.zip"
        let staged = try plan(yaml, files: ["requirements.txt": "./\(zip)\n", zip: "zip bytes"])
        let artifacts = staged.steps.compactMap { step -> [LocalArtifact]? in
            if case .copyArtifacts(let artifacts) = step { artifacts } else { nil }
        }
        #expect(artifacts.first?.map(\.target) == ["/tmp/local_package_artifacts/\(zip)"])
        #expect(
            staged.steps.contains(
                .copyFile(
                    path: "/tmp/requirements.txt", contents: Array("/tmp/local_package_artifacts/\(zip)\n".utf8),
                    mode: 0o644)))
        // Still refused: an option after the path.
        let messages = try errorMessages(
            yaml, files: ["requirements.txt": "./\(zip) --no-deps\n", zip: "zip bytes"])
        #expect(messages.contains { $0.contains("in a form cog cannot copy into the image") }, "\(messages)")
    }

    @Test func otherLocalFormsAndMissingFilesAreRefused() throws {
        for (line, message) in [
            (
                "wheels/missing-1.0-py3-none-any.whl",
                "\"wheels/missing-1.0-py3-none-any.whl\" does not exist in the project"
            ),
            ("../outside-1.0-py3-none-any.whl", "\"../outside-1.0-py3-none-any.whl\" is outside the project"),
            (
                "file:./demo-1.0-py3-none-any.whl",
                "names a file on this machine in a form cog cannot copy into the image"
            ),
            (
                "demo @ ./demo-1.0-py3-none-any.whl",
                "names a file on this machine in a form cog cannot copy into the image"
            ),
            (
                "./demo-1.0-py3-none-any.whl --hash=sha256:00",
                "names a file on this machine in a form cog cannot copy into the image"
            ),
        ] {
            let messages = try errorMessages(
                yaml, files: ["requirements.txt": "\(line)\n", "demo-1.0-py3-none-any.whl": "x"])
            #expect(messages.contains { $0.contains(message) }, "\(line): \(messages)")
        }
    }
}
