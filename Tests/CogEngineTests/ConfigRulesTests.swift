import TestSupport
import Testing

@testable import CogEngine

@Suite struct ConfigRulesTests {
    @Test(arguments: ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.11.9", "3.12.4"])
    func supportedPythonVersions(_ version: String) {
        #expect(ConfigRules.checkPythonVersion(version) == nil)
    }

    @Test(arguments: [
        ("3.7", "Python 3.7 is not supported: cog supports Python 3.8 to 3.13"),
        ("3.1", "Python 3.1 is not supported: cog supports Python 3.8 to 3.13"),
        ("3.14", "Python 3.14 is not supported: cog supports Python 3.8 to 3.13"),
        ("2.7", "Python 2.7 is not supported: cog supports Python 3.8 to 3.13"),
        ("3", "python_version \"3\" must include the minor version"),
        ("three", "python_version \"three\" is not a Python version"),
        ("3.11.x", "python_version \"3.11.x\" is not a Python version"),
    ])
    func rejectedPythonVersions(_ version: String, _ message: String) {
        #expect(ConfigRules.checkPythonVersion(version)?.message == message)
    }

    @Test(
        arguments: [
            ("11.8", nil), ("12.8.1", nil), ("11.0", nil),
            ("10.1", "CUDA 10.1 is not supported: the oldest CUDA cog builds on is 11"),
            ("12", "cuda \"12\" must include the minor version"),
            ("twelve", "cuda \"twelve\" is not a CUDA version"),
        ] as [(String, String?)])
    func cudaVersions(_ version: String, _ message: String?) {
        #expect(ConfigRules.checkCUDAVersion(version)?.message == message)
    }

    @Test func cudnnVersions() {
        #expect(ConfigRules.checkCuDNN("8") == nil)
        #expect(ConfigRules.checkCuDNN("8.1") == nil)
        #expect(ConfigRules.checkCuDNN("v8")?.message == "cudnn \"v8\" is not a cuDNN version")
    }

    @Test(arguments: [
        "predict.py:Predictor", "run.py:run", "integrations/cog_riffusion.py:RiffusionPredictor",
        "predict-1.3b.py:Predictor",
    ])
    func validPredictorReferences(_ reference: String) {
        #expect(ConfigRules.checkPredictorReference(reference, key: "predict") == nil)
    }

    @Test(arguments: [
        ("predict.py", "predict", "predict \"predict.py\" is not a reference to a Python class or function"),
        ("predict.py:", "predict", "predict \"predict.py:\" is not a reference to a Python class or function"),
        ("predict:Predictor", "run", "run \"predict:Predictor\" is not a reference to a Python class or function"),
        ("a.py:B.py:C", "train", "train \"a.py:B.py:C\" is not a reference to a Python class or function"),
        (
            "predict.py:Pre-dictor", "predict",
            "predict \"predict.py:Pre-dictor\" is not a reference to a Python class or function"
        ),
        ("../x.py:P", "predict", "predict \"../x.py:P\" points outside the project"),
    ])
    func malformedPredictorReferences(_ reference: String, _ key: String, _ message: String) {
        #expect(ConfigRules.checkPredictorReference(reference, key: key)?.message == message)
    }

    @Test func predictorHintNamesTheExampleForItsKey() {
        #expect(ConfigRules.checkPredictorReference("x", key: "train")?.hint?.contains("\"train.py:Trainer\"") == true)
        #expect(ConfigRules.checkPredictorReference("x", key: "run")?.hint?.contains("\"run.py:Runner\"") == true)
    }

    @Test(arguments: [
        "ffmpeg", "libgl1-mesa-glx", "libglib2.0-0", "g++", "libstdc++6", "python3=3.11.2-1", "libc6:amd64",
    ])
    func validAptPackages(_ name: String) {
        #expect(ConfigRules.checkAptPackage(name) == nil)
    }

    @Test(arguments: [
        ("ffmpeg; rm -rf /", "system package \"ffmpeg; rm -rf /\" is not an apt package name: it contains a space"),
        ("ffmpeg&&curl", "system package \"ffmpeg&&curl\" is not an apt package name: it contains \"&\""),
        ("$(reboot)", "system package \"$(reboot)\" is not an apt package name: it contains \"$\""),
        ("pkg`id`", "system package \"pkg`id`\" is not an apt package name: it contains \"`\""),
        ("FFmpeg", "system package \"FFmpeg\" is not an apt package name"),
        ("", "a system package is empty"),
    ])
    func rejectedAptPackages(_ name: String, _ message: String) {
        #expect(ConfigRules.checkAptPackage(name)?.message == message)
    }

    @Test func environmentEntries() throws {
        #expect(try ConfigRules.checkEnvironmentEntry("NAME=michael").get() == EnvVar(name: "NAME", value: "michael"))
        #expect(try ConfigRules.checkEnvironmentEntry("EMPTY=").get() == EnvVar(name: "EMPTY", value: ""))
        #expect(try ConfigRules.checkEnvironmentEntry("A=b=c").get() == EnvVar(name: "A", value: "b=c"))
    }

    @Test(arguments: [
        ("FOO", "environment entry \"FOO\" is not in NAME=value form"),
        ("1FOO=x", "environment entry \"1FOO=x\" has an invalid name \"1FOO\""),
        ("=x", "environment entry \"=x\" has an invalid name \"\""),
        ("PATH=/x", "environment variable \"PATH\" is reserved for the cog runtime and cannot be set in cog.yaml"),
        (
            "CUDA_HOME=/x",
            "environment variable \"CUDA_HOME\" is reserved for the cog runtime and cannot be set in cog.yaml"
        ),
        (
            "R8_TOKEN=x",
            "environment variable \"R8_TOKEN\" is reserved for the cog runtime and cannot be set in cog.yaml"
        ),
        (
            "HF_ENDPOINT=x",
            "environment variable \"HF_ENDPOINT\" is reserved for the cog runtime and cannot be set in cog.yaml"
        ),
    ])
    func rejectedEnvironmentEntries(_ entry: String, _ message: String) {
        guard case .failure(let violation) = ConfigRules.checkEnvironmentEntry(entry) else {
            Issue.record("\(entry) was accepted")
            return
        }
        #expect(violation.message == message)
    }

    @Test(arguments: [
        "r8.im/user/model", "cog-xverse", "r8.im/ibm-granite/granite-3.3-8b-instruct:1.0.0",
        "localhost:5000/a/b:latest",
        "registry.example.com/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ])
    func validImageNames(_ name: String) {
        #expect(ConfigRules.checkImageName(name) == nil)
    }

    @Test(arguments: [
        (
            "r8.im/<R8_USERNAME>/test",
            "image \"r8.im/<R8_USERNAME>/test\" is not a valid image name: \"<\" is not allowed"
        ),
        ("r8.im/User/Model", "image \"r8.im/User/Model\" is not a valid image name: \"User\" has uppercase letters"),
        (
            "r8.im//model",
            "image \"r8.im//model\" is not a valid image name: it has an empty path component (\"//\" or a trailing \"/\")"
        ),
        ("model:bad tag", "image \"model:bad tag\" has an invalid tag \"bad tag\""),
    ])
    func rejectedImageNames(_ name: String, _ message: String) {
        #expect(ConfigRules.checkImageName(name)?.message == message)
    }

    @Test func modelRepositories() {
        #expect(ConfigRules.checkModelRepository("r8.im/user/model") == nil)
        #expect(
            ConfigRules.checkModelRepository("r8.im/user/model:v1")?.message
                == "model \"r8.im/user/model:v1\" must be a bare repository: tags and digests are not allowed")
    }

    @Test(
        arguments: [
            ("0.16.0", nil), ("0.23.1", nil), ("0.18.0a1", nil), ("prerelease", nil),
            ("0.15.11", "sdk_version 0.15.11 is older than 0.16.0, the oldest cog SDK supported"),
            ("latest", "sdk_version \"latest\" is not a version"),
        ] as [(String, String?)])
    func sdkVersions(_ version: String, _ message: String?) {
        #expect(ConfigRules.checkSDKVersion(version)?.message == message)
    }

    @Test func didYouMean() {
        #expect(KeySuggestion.nearest(to: "pyhton_version", in: ConfigDecoder.buildKeys) == "python_version")
        #expect(KeySuggestion.nearest(to: "system_package", in: ConfigDecoder.buildKeys) == "system_packages")
        #expect(KeySuggestion.nearest(to: "GPU", in: ConfigDecoder.buildKeys) == "gpu")
        #expect(KeySuggestion.nearest(to: "colour", in: ConfigDecoder.buildKeys) == nil)
    }
}
