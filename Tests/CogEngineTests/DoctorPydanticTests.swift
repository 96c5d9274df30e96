import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// `cog doctor`'s pydantic BaseModel check and fix, and Cog's deprecated fields, with the cases of Cog's tests.
@Suite struct DoctorPydanticTests {
    static let workaround = """
        from cog import BaseRunner, Path
        from pydantic import BaseModel, ConfigDict


        class VoiceCloningOutputs(BaseModel):
            model_config = ConfigDict(arbitrary_types_allowed=True)
            audio: Path
            spectrogram: Path


        class Runner(BaseRunner):
            def run(self, text: str) -> VoiceCloningOutputs:
                return VoiceCloningOutputs(audio="a.wav", spectrogram="s.png")
        """
    static let yaml = "build:\n  python_version: \"3.12\"\nrun: \"run.py:Runner\"\n"

    @Test func theWorkaroundIsFoundAndReplacedByCogsBaseModel() throws {
        let dir = try TemporaryDirectory("doctor-pydantic")
        let doctor = try DoctorTests.doctor(["cog.yaml": Self.yaml, "run.py": Self.workaround], in: dir)
        let found = DoctorTests.findings(doctor.run(fix: false))[.pydanticBaseModel] ?? []
        #expect(found.count == 1)
        #expect(
            found.first?.message
                == "VoiceCloningOutputs inherits from pydantic.BaseModel with arbitrary_types_allowed; use cog.BaseModel instead"
        )
        #expect(found.first?.line == 5 && found.first?.severity == .error)

        let fixed = doctor.run(fix: true).first { $0.check == .pydanticBaseModel }
        #expect(fixed?.fixed == true)
        let text = try String(contentsOfFile: "\(dir.path)/run.py", encoding: .utf8)
        #expect(text.contains("from cog import BaseRunner, Path, BaseModel\n"), "\(text)")
        #expect(!text.contains("pydantic") && !text.contains("ConfigDict") && !text.contains("arbitrary_types_allowed"))
        #expect(text.contains("class VoiceCloningOutputs(BaseModel):\n    audio: Path"), "\(text)")
        #expect(doctor.run(fix: false).allSatisfy { $0.findings.isEmpty }, "no issues found after the fix")
    }

    @Test func anotherPydanticModelKeepsPydanticsName() throws {
        let dir = try TemporaryDirectory("doctor-pydantic")
        let source =
            Self.workaround.replacingOccurrences(
                of: "\n\n\nclass Runner", with: "\n\n\nclass Plain(BaseModel):\n    x: int\n\n\nclass Runner")
        let doctor = try DoctorTests.doctor(["cog.yaml": Self.yaml, "run.py": source], in: dir)
        _ = doctor.run(fix: true)
        let text = try String(contentsOfFile: "\(dir.path)/run.py", encoding: .utf8)
        #expect(text.contains("from cog import BaseRunner, Path, BaseModel as CogBaseModel\n"), "\(text)")
        #expect(text.contains("from pydantic import BaseModel\n"), "\(text)")
        #expect(text.contains("class VoiceCloningOutputs(CogBaseModel):"))
        #expect(text.contains("class Plain(BaseModel):"))
    }

    @Test func pydanticWithoutTheWorkaroundIsLeftAlone() throws {
        let dir = try TemporaryDirectory("doctor-pydantic")
        let source = Self.workaround.replacingOccurrences(
            of: "    model_config = ConfigDict(arbitrary_types_allowed=True)\n", with: "")
        let doctor = try DoctorTests.doctor(["cog.yaml": Self.yaml, "run.py": source], in: dir)
        #expect(DoctorTests.findings(doctor.run(fix: false))[.pydanticBaseModel]?.isEmpty == true)
    }

    @Test func cogsDeprecatedFieldsAreWarnings() throws {
        let dir = try TemporaryDirectory("doctor-deprecated")
        let yaml = """
            build:
              python_version: "3.12"
              python_packages:
                - torch==2.0.0
              pre_install:
                - echo hi
            run: "run.py:Runner"
            concurrency:
              max: 2
            """
        let doctor = try DoctorTests.doctor(["cog.yaml": yaml, "run.py": DoctorTests.runner], in: dir)
        let found = DoctorTests.findings(doctor.run(fix: false))[.deprecatedFields] ?? []
        #expect(
            found.map(\.message) == [
                #""concurrency.max" is deprecated: configure prediction concurrency with @cog.concurrent on your async run() method instead"#,
                #""build.python_packages" is deprecated: use a requirements.txt file instead"#,
                #""build.pre_install" is deprecated: use build.run commands instead"#,
            ])
        #expect(found.allSatisfy { $0.severity == .warning })
        #expect(found.dropFirst().first?.remediation == #"Use "build.python_requirements" instead"#)
    }
}
