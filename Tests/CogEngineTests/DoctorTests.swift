import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// `cog doctor`'s checks and fixes on real project folders, with the cases of Cog's own doctor tests.
@Suite struct DoctorTests {
    /// A doctor for a project of `files` in `dir` (kept by the caller: the folder goes with it).
    static func doctor(_ files: [String: String], in dir: TemporaryDirectory) throws -> Doctor {
        for (name, text) in files { try dir.write(name, text) }
        return Doctor(projectDirectory: dir.path, configFile: "cog.yaml")
    }

    static func findings(_ results: [DoctorResult]) -> [DoctorCheck: [DoctorFinding]] {
        Dictionary(uniqueKeysWithValues: results.map { ($0.check, $0.findings) })
    }

    static let runner = """
        from cog import BaseRunner

        class Runner(BaseRunner):
            def run(self, text: str) -> str:
                return "hello " + text
        """

    @Test func aCleanProjectHasNoFindings() throws {
        let dir1 = try TemporaryDirectory("doctor")
        let doctor = try Self.doctor(
            [
                "cog.yaml": "build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n", "run.py": Self.runner,
            ], in: dir1)
        #expect(doctor.run(fix: false).allSatisfy { $0.findings.isEmpty })
    }

    @Test func aMissingOrBrokenConfigIsAnError() throws {
        let dir2 = try TemporaryDirectory("doctor")
        let missing = try Self.doctor([:], in: dir2)
        let none = Self.findings(missing.run(fix: false))
        #expect(none[.configParse]?.map(\.message) == ["cog.yaml not found"])
        #expect(none[.configParse]?.first?.remediation == #"Run "cog init" to create a cog.yaml"#)
        let dir3 = try TemporaryDirectory("doctor")
        let broken = try Self.doctor(["cog.yaml": "build: [\n"], in: dir3)
        let syntax = Self.findings(broken.run(fix: false))
        #expect(syntax[.configParse]?.first?.message.hasPrefix("cog.yaml has invalid YAML") == true)
        #expect(syntax[.configSchema]?.isEmpty == true)
        let dir4 = try TemporaryDirectory("doctor")
        let invalid = try Self.doctor(["cog.yaml": "build:\n  python_version: \"2.7\"\n"], in: dir4)
        let schema = Self.findings(invalid.run(fix: false))
        #expect(schema[.configParse]?.isEmpty == true)
        #expect(schema[.configSchema]?.first?.message.hasPrefix("cog.yaml validation failed") == true)
    }

    @Test func predictIsMigratedToRun() throws {
        let dir = try TemporaryDirectory("doctor")
        let doctor = try Self.doctor(
            [
                "cog.yaml": "build:\n  python_version: \"3.12\"\npredict: \"predict.py:Predictor\"\n",
                "predict.py": """
                from cog import BasePredictor, Input

                class Predictor(BasePredictor):
                    def setup(self) -> None:
                        self.predict_count = 0

                    def predict(self, s: str = Input(description="predict this")) -> str:
                        return "hello " + s
                """,
            ], in: dir)
        let found = Self.findings(doctor.run(fix: false))[.predictToRun] ?? []
        #expect(
            found.map(\.message) == [
                "predict in cog.yaml is deprecated; use run with run.py:Runner",
                "predict.py uses deprecated Predictor/BasePredictor/predict() names",
            ])
        #expect(found.allSatisfy { $0.severity == .warning })
        let fixed = doctor.run(fix: true).first { $0.check == .predictToRun }
        #expect(fixed?.fixed == true, "\(fixed?.fixError ?? "")")
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/predict.py"))
        let config = try String(contentsOfFile: "\(dir.path)/cog.yaml", encoding: .utf8)
        #expect(config == "build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n")
        let run = try String(contentsOfFile: "\(dir.path)/run.py", encoding: .utf8)
        #expect(run.contains("from cog import BaseRunner, Input\n"), "\(run)")
        #expect(run.contains("class Runner(BaseRunner):"), "\(run)")
        #expect(run.contains("    def run(self, s: str = Input(description=\"predict this\")) -> str:"), "\(run)")
        #expect(run.contains("self.predict_count = 0"), "other uses of the word are kept: \(run)")
        #expect(doctor.run(fix: false).allSatisfy { $0.findings.isEmpty })
    }

    @Test func migrationRefusesWhenRunPyExists() throws {
        let dir = try TemporaryDirectory("doctor")
        let doctor = try Self.doctor(
            [
                "cog.yaml": "build:\n  python_version: \"3.12\"\npredict: \"predict.py:Predictor\"\n",
                "predict.py":
                    "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n",
                "run.py": "# mine\n",
            ], in: dir)
        let result = doctor.run(fix: true).first { $0.check == .predictToRun }
        #expect(result?.fixed == false)
        #expect(result?.fixError == "cannot migrate predict.py to run.py because run.py already exists")
        #expect(try String(contentsOfFile: "\(dir.path)/run.py", encoding: .utf8) == "# mine\n")
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/predict.py"))
    }

    @Test func deprecatedImportsAreFoundAndRemoved() throws {
        let dir = try TemporaryDirectory("doctor")
        let doctor = try Self.doctor(
            [
                "cog.yaml": "build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n",
                "run.py": """
                import warnings
                from cog import BaseRunner
                from cog.types import ExperimentalFeatureWarning

                warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)


                class Runner(BaseRunner):
                    def run(self, text: str) -> str:
                        return "hello " + text
                """,
            ], in: dir)
        let found = Self.findings(doctor.run(fix: false))[.deprecatedImports] ?? []
        #expect(found.count == 1)
        #expect(found.first?.severity == .error)
        #expect(found.first?.file == "run.py" && found.first?.line == 3)
        #expect(found.first?.message.hasPrefix("ExperimentalFeatureWarning was removed in cog 0.17") == true)
        let fixed = doctor.run(fix: true).first { $0.check == .deprecatedImports }
        #expect(fixed?.fixed == true)
        let run = try String(contentsOfFile: "\(dir.path)/run.py", encoding: .utf8)
        #expect(!run.contains("ExperimentalFeatureWarning") && !run.contains("cog.types"), "\(run)")
        #expect(!run.contains("import warnings"), "the import only the removed line used: \(run)")
        #expect(run.hasPrefix("from cog import BaseRunner\n"), "\(run)")
        #expect(doctor.run(fix: false).allSatisfy { $0.findings.isEmpty })
    }

    @Test func predictReferenceAndAnnotations() throws {
        let dir8 = try TemporaryDirectory("doctor")
        let doctor = try Self.doctor(
            [
                "cog.yaml": "build:\n  python_version: \"3.12\"\nrun: \"run.py:Model\"\ntrain: \"train.py:Trainer\"\n",
                "run.py":
                    "from cog import BaseRunner\n\nclass Runner(BaseRunner):\n    def run(self, text: str):\n        return text\n",
                "train.py": "class Trainer:\n    def train(\n        self, n: int,\n    ):\n        return n\n",
            ], in: dir8)
        let found = Self.findings(doctor.run(fix: false))
        #expect(found[.predictReference]?.map(\.message) == [#"class "Model" not found in run.py; found: Runner"#])
        #expect(found[.typeAnnotations]?.map(\.message) == ["Trainer.train() is missing a return type annotation"])
        #expect(found[.typeAnnotations]?.first?.line == 2)
        let dir9 = try TemporaryDirectory("doctor")
        let fine = try Self.doctor(
            [
                "cog.yaml": "build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n",
                "run.py":
                    "from cog import BaseRunner\n\nclass Runner(BaseRunner):\n    def run(self, text: str):\n        return text\n",
            ], in: dir9)
        let annotations = Self.findings(fine.run(fix: false))[.typeAnnotations] ?? []
        #expect(annotations.map(\.message) == ["Runner.run() is missing a return type annotation"])
        #expect(annotations.first?.line == 4)
    }
}
