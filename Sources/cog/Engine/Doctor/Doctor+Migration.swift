import Foundation
import OCI

/// Why `cog doctor --fix` left something for a person to do.
public struct DoctorFixError: Error, CustomStringConvertible {
    public let description: String
}

extension Doctor {
    /// Cog's patterns (`check_predict_to_run_migration.go`): a top-level `predict:` or `run:` key, and the one
    /// reference its fix rewrites.
    static let predictKey = #"(?m)^predict\s*:"#
    static let runKey = #"(?m)^run\s*:"#
    static let predictReference = #"(?m)^predict:[ \t]*["']?predict\.py:Predictor["']?[ \t]*(?:#.*)?$"#

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    func predictToRunFindings() -> [DoctorFinding] {
        guard let config = configText else { return [] }
        var findings: [DoctorFinding] = []
        if Self.matches(config, Self.predictKey) || Self.matches(config, Self.predictReference) {
            findings.append(
                DoctorFinding(
                    .warning, "predict in cog.yaml is deprecated; use run with run.py:Runner",
                    remediation: "Run cog doctor --fix to migrate predict: to run:", file: configFile))
        }
        if Self.matches(config, Self.predictReference), let source = source("predict.py"),
            !source.classes(named: "Predictor").isEmpty
        {
            findings.append(
                DoctorFinding(
                    .warning, "predict.py uses deprecated Predictor/BasePredictor/predict() names",
                    remediation: "Run cog doctor --fix to migrate to Runner/BaseRunner/run()", file: "predict.py"))
        }
        return findings
    }

    /// `predict: "predict.py:Predictor"` → `run: "run.py:Runner"`, predict.py → run.py with `class Runner(BaseRunner)`
    /// and `def run(`, as Cog's fix does, for the shape it supports; anything else is left for a person.
    func migratePredictToRun() throws {
        guard let config = configText else { throw DoctorFixError(description: "\(configFile) cannot be read") }
        guard !Self.matches(config, Self.runKey) else {
            throw DoctorFixError(description: "automatic migration cannot run when run is already set")
        }
        guard Self.matches(config, Self.predictReference) else {
            throw DoctorFixError(
                description: "Manual migration required: automatic migration only supports predict.py:Predictor")
        }
        guard !FileManager.default.fileExists(atPath: "\(projectDirectory)/run.py") else {
            throw DoctorFixError(description: "cannot migrate predict.py to run.py because run.py already exists")
        }
        guard var source = source("predict.py") else {
            throw DoctorFixError(
                description: "cannot migrate predict.py to run.py because predict.py was not found")
        }
        let classes = source.classes(named: "Predictor")
        guard classes.count == 1, let declaration = classes.first else {
            throw DoctorFixError(
                description:
                    "Manual migration required: automatic migration only supports a single Predictor class")
        }
        let classLine = declaration.first
        let predicts = source.methods(named: "predict", inClassAt: classLine)
        guard predicts.count == 1, let predict = predicts.first,
            source.methods(named: "run", inClassAt: classLine).isEmpty
        else {
            throw DoctorFixError(
                description:
                    "Manual migration required: automatic migration only supports a single Predictor class with a single predict method"
            )
        }
        let usesBase = declaration.text.contains("BasePredictor")
        let imports = source.topLevel.filter { statement in
            Self.fromImport(statement.text).map {
                $0.module == "cog" && $0.names.contains { $0.name == "BasePredictor" }
            }
                ?? false
        }
        if usesBase, imports.count != 1 {
            throw DoctorFixError(
                description:
                    "Manual migration required: automatic migration only supports BasePredictor imported from cog")
        }
        source.lines[predict.first] = source.lines[predict.first].replacingOccurrences(
            of: #"^(\s*(?:async\s+)?def\s+)predict(?!\w)"#, with: "$1run", options: .regularExpression)
        for line in declaration.first...declaration.last {
            source.lines[line] = Self.renamed(
                Self.renamed(source.lines[line], "Predictor", to: "Runner"), "BasePredictor", to: "BaseRunner")
        }
        if usesBase, let statement = imports.first, let (_, names) = Self.fromImport(statement.text) {
            let elsewhere = source.lines.enumerated().contains { index, line in
                !(statement.first...statement.last).contains(index) && PythonSource.uses(line, "BasePredictor")
            }
            let kept = names.map { $0.name == "BasePredictor" && !elsewhere ? "BaseRunner" : $0.text }
            source = Self.replacing(
                [(statement, "from cog import \((kept + (elsewhere ? ["BaseRunner"] : [])).joined(separator: ", "))")],
                in: source)
        }
        let rewritten = config.replacingOccurrences(
            of: Self.predictReference, with: #"run: "run.py:Runner""#, options: .regularExpression)
        try write(source.text, to: "run.py")
        do {
            try write(rewritten, to: configFile)
        } catch {
            FileSystem.remove("\(projectDirectory)/run.py")
            throw error
        }
        FileSystem.remove("\(projectDirectory)/predict.py")
    }

    /// `line` with the identifier `old` (whole, not after a dot) replaced by `new`.
    static func renamed(_ line: String, _ old: String, to new: String) -> String {
        line.replacingOccurrences(
            of: #"(?<![\w.])"# + old + #"(?!\w)"#, with: new, options: .regularExpression)
    }
}
