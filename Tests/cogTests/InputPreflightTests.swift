import Foundation
import TestSupport
import Testing

/// `cog predict`, `run` and `train` on the project in the working directory refuse wrong inputs before anything is
/// built, against the schema read from the source on the host, in Cog's words (Cog's integration test
/// `input_validation_before_build`). The base image is at a closed port: a build that started would name it.
@Suite struct InputPreflightTests {
    static let yaml = """
        build:
          python_version: "3.12"
        predict: "predict.py:Predictor"
        train: "train.py:train"

        """

    static let predictor = """
        from typing import Optional

        from cog import BasePredictor, Input, Path


        class Predictor(BasePredictor):
            def predict(
                self,
                prompt: str,
                count: int = Input(default=5, ge=1, le=10),
                colour: str = Input(default="rouge", choices=["rouge", "vért", "日本"]),
                title: str = Input(default="ok", max_length=5),
                slug: str = Input(default="ok", regex="^[a-z]+$"),
                note: Optional[str] = Input(default=None),
                image: Optional[Path] = Input(default=None),
            ) -> str:
                return prompt

        """

    static let trainer = """
        from cog import Input


        def train(epochs: int = Input(ge=1)) -> str:
            return "ok"

        """

    @Test func wrongInputsAreRefusedBeforeTheBuild() throws {
        let dir = try TemporaryDirectory("preflight")
        try dir.write("model/cog.yaml", Self.yaml)
        try dir.write("model/predict.py", Self.predictor)
        try dir.write("model/train.py", Self.trainer)
        try dir.write("model/photo ü.png", "not really a picture")
        let port = try closedPort()
        let base = "127.0.0.1:\(port)/preflight-base:1"
        let environment = ["COG_CACHE_DIR": "\(dir.path)/cache", "COG_REGISTRY_HOST": "127.0.0.1:\(port)"]
        let options = ["--base-image", base, "--progress", "plain"]
        func cog(_ arguments: [String]) throws -> CommandResult {
            try runCommand(
                [PipelineTests.cog] + arguments + options, environment: environment, directory: "\(dir.path)/model")
        }

        for (arguments, message) in [
            (["run", "-i", "prompt=hi", "-i", "nope=1"], #"unknown input "nope"; valid inputs are: colour, count"#),
            (["run", "--json", #"{"prompt": "hi", "nope": 1}"#], #"unknown input "nope""#),
            (["predict"], #"missing required input "prompt""#),
            (["run", "-i", "prompt=hi", "-i", "count=0"], #"invalid input "count": number must be at least 1"#),
            (["run", "-i", "prompt=hi", "-i", "count=99"], #"invalid input "count": number must be at most 10"#),
            (["run", "-i", "prompt=hi", "-i", "count=lots"], #"invalid input "count": expected integer, got string"#),
            (
                ["run", "-i", "prompt=日本", "-i", "colour=blau"],
                #"invalid input "colour": must be one of: rouge, vért, 日本"#
            ),
            (["run", "-i", "prompt=hi", "-i", "title=naïve!"], #"invalid input "title": maximum string length is 5"#),
            (["run", "-i", "prompt=hi", "-i", "slug=été"], #"invalid input "slug": string doesn't match"#),
            (["run", "--json", #"{"prompt": "hi", "note": null}"#], #"invalid input "note": must not be null"#),
            (["predict", "-i", "prompt=hi", "-i", "count=0"], #"invalid input "count": number must be at least 1"#),
            (["train", "-i", "epochs=0"], #"invalid input "epochs": number must be at least 1"#),
        ] {
            let refused = try cog(arguments)
            #expect(refused.status == 1, "\(arguments): \(refused.output)")
            #expect(refused.stderr.contains("error: \(message)"), "\(arguments): \(refused.stderr)")
            #expect(!refused.stderr.contains("127.0.0.1:\(port)"), "\(arguments) started a build: \(refused.stderr)")
        }

        // Valid inputs, non-ASCII ones and a file among them, pass the check: the build starts (and fails at the
        // closed port).
        for arguments in [
            ["run", "-i", "prompt=日本語", "-i", "colour=vért", "-i", "title=héllo", "-i", "image=@photo ü.png"],
            ["run", "--json", #"{"prompt": "ünïcödé", "count": 10, "note": "ok", "image": "photo ü.png"}"#],
            ["train", "-i", "epochs=3"],
        ] {
            let started = try cog(arguments)
            #expect(started.status != 0)
            #expect(!started.stderr.contains("invalid input"), "\(arguments): \(started.stderr)")
            #expect(started.stderr.contains("127.0.0.1:\(port)"), "\(arguments) built nothing: \(started.stderr)")
        }
    }
}
