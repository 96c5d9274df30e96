import TestSupport
import Testing

@testable import CogEngine

/// The oldest cog.yaml schema (an `environment:` stanza, `model:` naming the predictor) and obsolete keys.
@Suite struct LegacySchemaTests {
    @Test func olderSchemaLoadsWithOneWarning() throws {
        let yaml = """
            environment:
              python_version: "3.8"
              python_packages:
                - pytorch==1.4.0
              system_packages:
                - "ffmpeg"
            model: "model.py:JazzSoloComposerModel"
            """
        let loaded = try load(yaml)
        let build = loaded.config.config.build
        #expect(build.pythonVersion == "3.8")
        #expect(build.systemPackages == ["ffmpeg"])
        #expect(loaded.config.config.predict == "model.py:JazzSoloComposerModel")
        #expect(
            loaded.warnings.map(\.message) == [
                "this cog.yaml uses Cog's older schema: environment: is now build: and model: is now predict:; it was read as the newer one"
            ])
        #expect(loaded.warnings.first?.mark == SourceMark(line: 1, column: 1))
    }

    @Test func olderKeysAreTranslatedOrNamedAsIgnored() throws {
        let yaml = """
            model: infer.py:Model
            examples:
              - input: {image: "@x.png"}
            environment:
              architectures: [cpu, gpu]
              cuda: "11.8"
              python_version: 3.8
              python_find_links: ["https://download.pytorch.org/whl/torch_stable.html"]
              python_packages: [numpy==1.20.1]
              post_install: ["echo done"]
              workdir: global
            """
        let loaded = try load(yaml)
        let config = loaded.config
        #expect(config.gpu)
        #expect(
            config.requirements == ["--find-links https://download.pytorch.org/whl/torch_stable.html", "numpy==1.20.1"])
        #expect(config.config.build.run == [RunItem(command: "echo done")])
        #expect(
            loaded.warnings.first?.message.hasSuffix("(ignored keys that no longer exist: examples, workdir)") == true)
    }

    @Test func modelMeansARepositoryUnlessItNamesAPythonFile() throws {
        let current = try load("model: r8.im/acme/model\npredict: \"predict.py:P\"\n")
        #expect(current.config.config.model == "r8.im/acme/model")
        #expect(current.warnings.isEmpty)
        #expect(try load("model: \"predict.py:Predictor\"\n").config.config.predict == "predict.py:Predictor")
    }

    @Test func obsoleteCogKeysAreIgnoredWithAWarning() throws {
        let yaml =
            "build:\n  python_version: \"3.12\"\n  fast: true\n  cog_runtime: true\npredict: \"predict.py:P\"\ntests:\n  - inputs: {s: world}\n"
        let loaded = try load(yaml)
        #expect(
            loaded.warnings.map(\.message) == [
                "build.fast was an experimental Cog option and is ignored",
                "build.cog_runtime is ignored: the cog runtime package is always installed",
                "tests: is no longer used by Cog and is ignored",
            ])
        #expect(loaded.warnings.map { $0.mark?.line } == [3, 4, 6])
    }

    @Test func bothStanzasAtOnceIsAnError() throws {
        let yaml = "environment:\n  python_version: \"3.8\"\nbuild:\n  gpu: false\n"
        #expect(try errorMessages(yaml) == ["cog.yaml has both build: and the older environment: stanza"])
    }

    @Test func unquotedVersionsMeanWhatIsWritten() throws {
        let config = try load(
            "build:\n  python_version: 3.10\n  gpu: true\n  cuda: 11.0\npredict: predict.py:Predictor\n"
        ).config
        #expect(config.pythonVersion == "3.10")
        #expect(config.config.build.cuda == "11.0")
        #expect(config.cudaBaseImage == "nvidia/cuda:11.0.3-cudnn8-devel-ubuntu20.04")
    }
}
