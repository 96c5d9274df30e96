import ArgumentParser
import CogEngine
import Foundation

/// `cog doctor [--fix]`: Cog's project checks (config, predictor, deprecated names and imports), printed as Cog
/// prints them; exits 1 while an error is left.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check your project for common issues and fix them (experimental).",
        discussion:
            "By default, cog doctor reports problems without modifying any files. Pass --fix to apply the safe fixes: predict: \"predict.py:Predictor\" migrated to run: \"run.py:Runner\" (predict.py renamed run.py, Predictor/BasePredictor/predict() to Runner/BaseRunner/run()), imports removed from cog removed, and pydantic.BaseModel with arbitrary_types_allowed replaced by cog.BaseModel."
    )

    @Option(name: .shortAndLong, help: "The config file to read (searched upwards from the working directory).")
    var file = "cog.yaml"
    @Flag(help: "Automatically apply fixes.") var fix = false

    func run() throws {
        printError("NOTE: cog doctor is experimental. Behavior and checks may change in future versions.\n")
        printError(fix ? "Running cog doctor --fix...\n" : "Running cog doctor...\n")
        let (projectDirectory, configFile) = DebugCommand.locate(file)
        let results = Doctor(projectDirectory: projectDirectory, configFile: configFile).run(fix: fix)
        let errors = Self.report(results, fix: fix)
        if errors > 0 { throw ExitCode(1) }
    }

    /// Prints each check, its findings and a summary as Cog's doctor does; returns the errors left.
    static func report(_ results: [DoctorResult], fix: Bool) -> Int {
        var (errors, warnings, fixed) = (0, 0, 0)
        var group: DoctorCheck.Group?
        for result in results {
            if result.check.group != group {
                group = result.check.group
                printError(result.check.group.rawValue)
            }
            if let reason = result.fixError {
                printError("\(result.check.description): \(reason)")
                errors += 1
            } else if result.findings.isEmpty {
                printError("\(result.check.description)")
                continue
            } else if result.fixed {
                printError("Fixed: \(result.check.description)")
                fixed += result.findings.count
            } else {
                printError(result.check.description)
            }
            if !result.fixed {
                errors += result.findings.filter { $0.severity == .error }.count
                warnings += result.findings.filter { $0.severity == .warning }.count
            }
            for finding in result.findings {
                let location = finding.file.map { file in finding.line.map { "\(file):\($0) — " } ?? "\(file) — " }
                printError("  \(location ?? "")\(finding.message)")
                if fix && !result.fixed {
                    printError(
                        finding.remediation.isEmpty
                            ? "  (no auto-fix available)" : "  Remediation: \(finding.remediation)")
                }
            }
        }
        printError("")
        printError(summary(errors: errors, warnings: warnings, fixed: fixed, fix: fix, results: results))
        return errors
    }

    static func summary(errors: Int, warnings: Int, fixed: Int, fix: Bool, results: [DoctorResult]) -> String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        if fix && fixed > 0 {
            var text = "Fixed \(count(fixed, "issue"))"
            if warnings > 0 { text += ". \(count(warnings, "warning")) remaining" }
            if errors > 0 { text += ". \(count(errors, "unfixed error"))" }
            return text + "."
        }
        guard errors > 0 || warnings > 0 else { return "no issues found" }
        var text =
            "Found "
            + [errors > 0 ? count(errors, "error") : nil, warnings > 0 ? count(warnings, "warning") : nil]
            .compactMap { $0 }.joined(separator: ", ") + "."
        let fixable = results.contains { result in
            result.check.fixable && result.findings.contains { $0.severity == .error }
        }
        if !fix && fixable { text += #" Run "cog doctor --fix" to auto-fix."# }
        return text
    }
}
