import Foundation
import TestSupport
import Testing

/// What `cog build` and `cog predict` say, and the names file outputs get, in Cog's words (`pkg/cli/build.go`,
/// `pkg/cli/predict.go`), through the binary and the real runtime.
@Suite(.serialized) struct PredictMessagesTests {
    static let predictor = """
        from cog import BasePredictor, Input, Path

        class Predictor(BasePredictor):
            def predict(
                self, kind: str, n: int = Input(default=1, choices=[1, 2, 3]), value: str | float = "x"
            ) -> Path:
                if kind == "none":
                    return None
                if kind == "types":
                    out = Path("/tmp/types.txt")
                    out.write_text(f"{type(n).__name__}:{n} {type(value).__name__}:{value}")
                    return out
                out = Path("/tmp/picture.bmp")
                out.write_bytes(b"BM" + bytes(60))
                return out
        """

    @Test func buildAndPredictSpeakLikeCogAndNameFilesByTheirType() throws {
        let scene = try Scene("messages")
        let project = try scene.project("model", ParityTests.model, files: ["predict.py": Self.predictor])
        let built = try scene.cog(["build", "-t", "messages", "--progress", "plain"], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        #expect(built.stderr.contains("Image built as messages"), "\(built.stderr.suffix(2000))")

        // A file output is written as output.<ext>, the extension from the data URL's media type.
        let file = try scene.cog(["predict", "messages", "-i", "kind=file"], in: project)
        #expect(file.status == 0, "\(file.stderr.suffix(2000))")
        #expect(file.stderr.contains("Written output to: output.bmp"), "\(file.stderr.suffix(2000))")
        #expect(FileManager.default.contents(atPath: "\(project)/output.bmp")?.prefix(2) == Data("BM".utf8))
        #expect(!FileManager.default.fileExists(atPath: "\(project)/output"))

        // -o with an extension is used as it is; without one, the media type's is added.
        let named = try scene.cog(["predict", "messages", "-i", "kind=file", "-o", "picture"], in: project)
        #expect(named.status == 0, "\(named.stderr.suffix(2000))")
        #expect(named.stderr.contains("Written output to: picture.bmp"), "\(named.stderr.suffix(2000))")
        let exact = try scene.cog(["predict", "messages", "-i", "kind=file", "-o", "mine.img"], in: project)
        #expect(exact.stderr.contains("Written output to: mine.img"), "\(exact.stderr.suffix(2000))")

        // -i values typed by the schema before the model starts: an int with choices, a str | float union.
        let typed = try scene.cog(
            ["predict", "messages", "-i", "kind=types", "-i", "n=3", "-i", "value=1.5"], in: project)
        #expect(typed.status == 0, "\(typed.stderr.suffix(2000))")
        #expect(typed.stderr.contains("Written output to: output.txt"), "\(typed.stderr.suffix(2000))")
        #expect(try String(contentsOfFile: "\(project)/output.txt", encoding: .utf8) == "int:3 float:1.5")

        // None: nothing written, and Cog's warning.
        let none = try scene.cog(["predict", "messages", "-i", "kind=none"], in: project)
        #expect(none.status == 0, "\(none.stderr.suffix(2000))")
        #expect(none.stderr.contains("No output generated"), "\(none.stderr.suffix(2000))")
        #expect(none.stdout.isEmpty, "\(none.stdout)")

        // --json - reads the inputs from standard input, as --json @- does.
        let stdin = try runCommand(
            [Scene.cog, "predict", "messages", "--json", "-"], environment: scene.environment,
            input: #"{"kind": "none"}"#, directory: project)
        #expect(stdin.status == 0, "\(stdin.stderr.suffix(2000))")
        let prediction = try JSONSerialization.jsonObject(with: Data(stdin.stdout.utf8)) as? [String: Any]
        #expect(prediction?["status"] as? String == "succeeded", "\(stdin.stdout)")

        // A list of files: output.0.bmp, output.1.bmp (the mounted project, edited, needs no rebuild).
        try scene.dir.write(
            "model/predict.py",
            Self.predictor.replacingOccurrences(of: "-> Path:", with: "-> list[Path]:")
                .replacingOccurrences(of: "return out", with: "return [out, out]"))
        let list = try scene.cog(["predict", "-i", "kind=file"], in: project)
        #expect(list.status == 0, "\(list.stderr.suffix(2000))")
        for i in 0..<2 {
            #expect(list.stderr.contains("Written output to: output.\(i).bmp"), "\(list.stderr.suffix(2000))")
            #expect(FileManager.default.fileExists(atPath: "\(project)/output.\(i).bmp"))
        }
    }
}
