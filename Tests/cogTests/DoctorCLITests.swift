import Foundation
import TestSupport
import Testing

/// `cog doctor` through the binary: what it prints, its exit codes, and a project it fixed predicting again.
@Suite(.serialized) struct DoctorCLITests {
    @Test func doctorFindsFixesAndTheFixedProjectPredicts() throws {
        let scene = try Scene("doctor")
        let project = try scene.project(
            "model", ParityTests.model,
            files: [
                "predict.py": """
                import warnings
                from cog import BasePredictor
                from cog.types import ExperimentalFeatureWarning

                warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)


                class Predictor(BasePredictor):
                    def predict(self, s: str) -> str:
                        return "fixed " + s
                """
            ])
        let found = try scene.cog(["doctor"], in: project)
        #expect(found.status == 1, "\(found.output)")
        for line in [
            "NOTE: cog doctor is experimental. Behavior and checks may change in future versions.",
            "Deprecated predict interface names",
            "  cog.yaml — predict in cog.yaml is deprecated; use run with run.py:Runner",
            "  predict.py:3 — ExperimentalFeatureWarning was removed in cog 0.17; current_scope().record_metric() is no longer experimental",
            #"Found 1 error, 2 warnings. Run "cog doctor --fix" to auto-fix."#,
        ] {
            #expect(found.stderr.contains(line + "\n"), "missing: \(line)\n\(found.stderr)")
        }

        let fixed = try scene.cog(["doctor", "--fix"], in: project)
        #expect(fixed.status == 0, "\(fixed.output)")
        #expect(fixed.stderr.contains("Fixed: Deprecated predict interface names\n"), "\(fixed.stderr)")
        #expect(fixed.stderr.contains("Fixed: Deprecated imports\n"), "\(fixed.stderr)")
        #expect(fixed.stderr.contains("Fixed 3 issues.\n"), "\(fixed.stderr)")
        let clean = try scene.cog(["doctor"], in: project)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.stderr.hasSuffix("\nno issues found\n"), "\(clean.stderr)")

        // The migrated project (run: "run.py:Runner", BaseRunner, run()) runs on the real runtime.
        let predicted = try scene.cog(["predict", "-i", "s=x"], in: project)
        #expect(predicted.status == 0, "\(predicted.stderr.suffix(3000))")
        #expect(predicted.stdout == "fixed x\n", "\(predicted.output.suffix(2000))")
    }
}
