import Foundation
import Registry
import TestSupport
import Testing

@testable import CogEngine

/// The cog-base image Cog chooses (`pkg/dockerfile/base.go`), against the tags of Cog's own examples and
/// integration tests (`integration-tests/cog-base-tags.txt`).
@Suite struct CogBaseImageTests {
    /// The tag chosen for `yaml`, or Cog's reason for none.
    func tag(_ yaml: String) throws -> String {
        let loaded = try load(yaml + "predict: \"predict.py:P\"\n")
        let (image, _) = CogBaseImage.candidate(
            for: loaded.config, registryHost: "r8.im", torchBuilds: try CompatibilityTables.bundled().torch)
        switch image {
        case .success(let image): return image.tag
        case .failure(let error): return error.reason
        }
    }

    @Test(arguments: [
        ("build:\n  python_version: \"3.12\"\n", "python3.12"),
        (
            "build:\n  gpu: true\n  cuda: \"11.8\"\n  python_version: \"3.11\"\n  python_packages: [\"torch==2.3.1\"]\n",
            "cuda11.8-python3.11-torch2.3.1"
        ),
        (
            "build:\n  gpu: true\n  python_version: \"3.12\"\n  python_packages: [\"torch==2.7.1\", \"torchvision==0.22.1\"]\n",
            "cuda12.8-python3.12-torch2.7.1"
        ),
        // torch normalised to the newest release matching it; the CUDA chosen for it comes first
        (
            "build:\n  gpu: true\n  python_version: \"3.11\"\n  python_packages: [\"torch==2.3\"]\n",
            "cuda12.1-python3.11-torch2.3.1"
        ),
        ("build:\n  gpu: true\n  python_version: \"3.10\"\n  cuda: \"11.8\"\n", "cuda11.8-python3.10"),
        // CPU torch: the CPU build's combination
        ("build:\n  python_version: \"3.12\"\n  python_packages: [\"torch==2.7.1\"]\n", "python3.12-torch2.7.1"),
        // Cog's GreaterOrEqual compares the local part: no torch 1.13.1 combination, so torch leaves the tag
        (
            "build:\n  gpu: true\n  cuda: \"11.7\"\n  python_version: \"3.10\"\n  python_packages: [\"torch==1.13.1\"]\n",
            "cuda11.7-python3.10"
        ),
        (
            "build:\n  python_version: \"3.9\"\n",
            "unsupported base image configuration: CUDA: (none) / Python: 3.9 / Torch: (none)"
        ),
        (
            "build:\n  gpu: true\n  cuda: \"11.3\"\n  python_version: \"3.10\"\n",
            "unsupported base image configuration: CUDA: 11.3 / Python: 3.10 / Torch: (none)"
        ),
    ])
    func tagAsCogChoosesIt(yaml: String, expected: String) throws {
        #expect(try tag(yaml) == expected)
    }

    @Test func aPatchVersionIsStrippedWithCogsWarning() throws {
        let loaded = try load("build:\n  python_version: \"3.11.9\"\npredict: \"predict.py:P\"\n")
        let (image, warnings) = CogBaseImage.candidate(
            for: loaded.config, registryHost: "ghcr.io/replicate/cog",
            torchBuilds: try CompatibilityTables.bundled().torch)
        #expect(try image.get().reference == "ghcr.io/replicate/cog/cog-base:python3.11")
        #expect(warnings == ["Stripping patch version from Python version 3.11.9 to 3.11"])
    }

    @Test func onlyCUDA13AndLaterBasesHaveUVsExternallyManagedPython() {
        #expect(!CogBaseImage(registryHost: "r8.im", cuda: "12.9", python: "3.12", torch: nil).pythonIsUVManaged)
        #expect(CogBaseImage(registryHost: "r8.im", cuda: "13.0", python: "3.12", torch: nil).pythonIsUVManaged)
        #expect(!CogBaseImage(registryHost: "r8.im", cuda: nil, python: "3.12", torch: nil).pythonIsUVManaged)
    }

    @Test func byDefaultAnUnsupportedCombinationIsOneWarningAndExplicitlyAnError() async throws {
        let loaded = try load("build:\n  python_version: \"3.9\"\npredict: \"predict.py:P\"\n")
        let fallback = try await CogBaseImage.select(
            for: loaded.config, request: .byDefault, registry: RegistrySettings(),
            credentials: DockerConfig(environment: [:]))
        #expect(fallback.image == nil)
        #expect(
            fallback.warnings == [
                "Could not find a suitable base image, continuing without base image support (unsupported base image configuration: CUDA: (none) / Python: 3.9 / Torch: (none))."
            ])
        let off = try await CogBaseImage.select(
            for: loaded.config, request: .off, registry: RegistrySettings(), credentials: DockerConfig(environment: [:])
        )
        #expect(off.image == nil && off.warnings.isEmpty)
        await #expect(throws: CogBaseImageError.self) {
            _ = try await CogBaseImage.select(
                for: loaded.config, request: .required, registry: RegistrySettings(),
                credentials: DockerConfig(environment: [:]))
        }
    }

    @Test func theQuickCheckTriesOnceWithShortTimeouts() {
        let quick = CogBaseImage.quickCheck(RegistrySettings())
        #expect(quick.retry.maxAttempts == 1 && quick.retry.maxAttemptsUnanswered == 1)
        #expect(quick.timeouts.connect == 3 && quick.timeouts.reply == 5)
    }
}
