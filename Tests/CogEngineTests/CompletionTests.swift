import TestSupport
import Testing

@testable import CogEngine

/// Python choice, CUDA/cuDNN resolution and the requirements rewrite, against the bundled tables.
@Suite struct CompletionTests {
    private func gpu(_ packages: [String], cuda: String? = nil, python: String? = "3.12") -> String {
        var yaml = "build:\n  gpu: true\n"
        if let python { yaml += "  python_version: \"\(python)\"\n" }
        if let cuda { yaml += "  cuda: \"\(cuda)\"\n" }
        yaml += "  python_packages:\n" + packages.map { "    - \"\($0)\"\n" }.joined()
        return yaml + "predict: \"predict.py:Predictor\"\n"
    }

    @Test(
        arguments: [
            (["torch==2.7.1"], nil, "12.8", "9", "nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04"),
            (["torch==2.0.1"], nil, "11.8", "8", "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04"),
            (["torch==2.0.1+cu118"], nil, "11.8", "8", "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04"),
            (["torch==2.5.1"], "12.4", "12.4", "9", "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04"),
            (["numpy"], nil, "11.8", "8", "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04"),
            (["tensorflow==2.10.0"], nil, "11.2", "8", "nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04"),
            (["numpy"], "11.6.2", "11.6.2", "8", "nvidia/cuda:11.6.2-cudnn8-devel-ubuntu20.04"),
        ] as [([String], String?, String, String, String)])
    func cudaResolution(_ packages: [String], _ cuda: String?, _ wantCUDA: String, _ wantCuDNN: String, _ image: String)
        throws
    {
        let config = try load(gpu(packages, cuda: cuda)).config
        #expect(config.config.build.cuda == wantCUDA)
        #expect(config.config.build.cudnn == wantCuDNN)
        #expect(config.cudaBaseImage == image)
    }

    @Test(
        arguments: [
            (
                ["torch==2.0.1", "pandas==2.0.3"], "11.8",
                ["--extra-index-url https://download.pytorch.org/whl/cu118/", "torch==2.0.1", "pandas==2.0.3"]
            ),
            (
                ["torch==2.7.1+cu128", "torchvision==0.22.1"], nil,
                ["--extra-index-url https://download.pytorch.org/whl/cu128/", "torch==2.7.1", "torchvision==0.22.1"]
            ),
            (
                ["torch==1.12.1 --extra-index-url=https://download.pytorch.org/whl/cu116"], "11.6.2",
                ["--extra-index-url https://download.pytorch.org/whl/cu116", "torch==1.12.1"]
            ),
            (["torch==2.7.1"], "12.1", ["--extra-index-url https://download.pytorch.org/whl/cu118/", "torch==2.7.1"]),
            (["tensorflow==2.10.0"], nil, ["tensorflow==2.10.0"]),
            (
                ["torch>=2.3.1", "--pre -f https://mlc.ai/wheels"], nil,
                ["torch>=2.3.1", "--pre -f https://mlc.ai/wheels"]
            ),
        ] as [([String], String?, [String])])
    func gpuRequirementsRewrite(_ packages: [String], _ cuda: String?, _ expected: [String]) throws {
        #expect(try load(gpu(packages, cuda: cuda)).config.requirements == expected)
    }

    @Test func cpuTorchUsesTheCPUIndex() throws {
        let yaml =
            "build:\n  python_version: \"3.12\"\n  python_packages: [\"torch==2.5.0\", \"torchvision==0.20.0\"]\npredict: \"predict.py:P\"\n"
        let config = try load(yaml).config
        #expect(
            config.requirements == [
                "--extra-index-url https://download.pytorch.org/whl/cpu/", "torch==2.5.0", "torchvision==0.20.0",
            ])
        #expect(config.cudaBaseImage == nil)
    }

    @Test func requirementsFilesKeepIndexOptionsAndDropComments() throws {
        let requirements =
            "--extra-index-url https://example.com/simple\n--trusted-host example.com\n--find-links https://example.com/wheels\nnumpy==1.26.4  # pinned\nrequests \\\n  >=2.0\n-e .\n"
        let yaml =
            "build:\n  python_version: \"3.12\"\n  python_requirements: requirements.txt\npredict: \"predict.py:P\"\n"
        #expect(
            try load(yaml, files: ["requirements.txt": requirements]).config.requirements == [
                "--extra-index-url https://example.com/simple", "--trusted-host example.com",
                "--find-links https://example.com/wheels",
                "numpy==1.26.4", "requests   >=2.0",
            ])
    }

    @Test func cogAndCogletPinsAreRemovedWithAWarning() throws {
        let yaml =
            "build:\n  python_version: \"3.12\"\n  python_packages: [\"cog==0.9.0\", \"coglet\", \"numpy\"]\npredict: \"predict.py:P\"\n"
        let loaded = try load(yaml)
        #expect(loaded.config.requirements == ["numpy"])
        #expect(
            loaded.warnings.map(\.message) == [
                "\"cog==0.9.0\" is removed from the requirements: the image gets the cog runtime chosen by cog.yaml",
                "\"coglet\" is removed from the requirements: the image gets coglet with cog",
            ])
    }

    @Test(arguments: [
        ("build:\n  python_packages: [numpy]\n", "3.12"),
        ("build:\n  python_packages: [\"torch==1.11.0\"]\n", "3.10"),
        ("build:\n  python_packages: [\"tensorflow==2.5.0\"]\n", "3.9"),
        ("build:\n  python_packages: [\"torch==2.7.1\"]\n", "3.12"),
        ("environment:\n  - A=1\n", "3.12"),
    ])
    func defaultPython(_ yaml: String, _ python: String) throws {
        let config = try load(yaml + "predict: \"predict.py:P\"\n").config
        #expect(config.pythonVersion == python)
        #expect(config.config.build.pythonVersion == python)
    }

    @Test(
        arguments: [
            ("3.12", nil, "cog==0.23.1", false), ("3.10", nil, "cog==0.23.1", false),
            ("3.9", nil, "cog==0.16.12", false),
            ("3.8", nil, "cog==0.16.12", false), ("3.12", "0.18.0a1", "cog==0.18.0a1", true),
            ("3.12", "prerelease", "cog", true),
            ("3.9", "0.16.8", "cog==0.16.8", false),
        ] as [(String, String?, String, Bool)])
    func runtimeForPython(_ python: String, _ sdk: String?, _ requirement: String, _ pre: Bool) throws {
        var yaml = "build:\n  python_version: \"\(python)\"\n"
        if let sdk { yaml += "  sdk_version: \"\(sdk)\"\n" }
        let runtime = try load(yaml + "predict: \"predict.py:P\"\n").config.runtime
        #expect(runtime == CogRuntime(requirement: requirement, preRelease: pre))
    }

    @Test(
        arguments: [
            ("torch==2.13.0", nil, "cog doesn't know which CUDA version torch==2.13.0 needs"),
            ("tensorflow==1.15.0", nil, "cog doesn't know which CUDA version tensorflow==1.15.0 needs"),
            ("numpy", "11.5.1", "CUDA 11.5.1 has no nvidia/cuda image with cuDNN that cog can build on"),
            ("tensorflow==2.10.0", "12.1", "TensorFlow 2.10.0 requires CUDA 11.2, but cuda is 12.1"),
        ] as [(String, String?, String)])
    func cudaErrors(_ package: String, _ cuda: String?, _ message: String) throws {
        #expect(try errorMessages(gpu([package], cuda: cuda)) == [message])
    }

    @Test func cudnnMismatchIsAnError() throws {
        let yaml =
            "build:\n  gpu: true\n  python_version: \"3.12\"\n  cuda: \"11.8\"\n  cudnn: \"7\"\npredict: \"predict.py:P\"\n"
        #expect(try errorMessages(yaml) == ["cuDNN 7 has no nvidia/cuda image for CUDA 11.8; its images have cuDNN 8"])
    }

    @Test func unknownCUDAForTorchIsAWarningNamingABetterOne() throws {
        let loaded = try load(gpu(["torch==2.7.1"], cuda: "12.1"))
        #expect(
            loaded.warnings.map(\.message) == [
                "cog doesn't know if CUDA 12.1 is compatible with torch 2.7.1; this might cause CUDA problems"
            ])
        #expect(loaded.warnings.first?.hint == "try cuda: \"12.8\"")
    }

    @Test func labelJSONHasCogsShapeWithResolvedValues() throws {
        let yaml = """
            build:
              gpu: true
              python_packages: ["torch==2.7.1"]
              run:
                - echo hi
                - command: cat /run/secrets/x
                  mounts: [{type: secret, id: x, target: /run/secrets/x}]
            run: "run.py:Runner"
            train: "train.py:train"
            concurrency: {max: 2}
            environment: ["B=2", "A=1"]
            """
        let json = try load(yaml).config.labelJSON()
        #expect(
            json
                == #"{"build":{"cuda":"12.8","cudnn":"9","gpu":true,"python_packages":["torch==2.7.1"],"python_version":"3.12","run":[{"command":"echo hi"},{"command":"cat /run/secrets/x","mounts":[{"id":"x","target":"/run/secrets/x","type":"secret"}]}]},"concurrency":{"max":2},"environment":["B=2","A=1"],"predict":"run.py:Runner","train":"train.py:train"}"#
        )
    }

    @Test func aPredictorFileMissingFromTheProjectIsAWarning() throws {
        let project = try makeProject(
            "build:\n  python_version: \"3.12\"\npredict: \"src/predict.py:Predictor\"\n", predictors: false)
        let warning = try #require(try ConfigLoader.load(projectDirectory: project.path).warnings.first)
        #expect(warning.message == "predict names src/predict.py, which is not in the project")
        #expect(warning.mark == SourceMark(line: 3, column: 10))
    }
}
