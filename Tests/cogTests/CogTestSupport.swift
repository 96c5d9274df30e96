import Foundation
import TestSupport
@testable import cog

/// The package root, found from this file's path (Tests/cogTests/…).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A temporary project folder holding `cog.yaml` (when given), `files`, and, unless `predictors` is false, empty
/// predictor files for the names tests use (predict.py, run.py, train.py, model.py, infer.py).
func makeProject(_ yaml: String?, files: [String: String] = [:], predictors: Bool = true) throws -> TemporaryDirectory {
    let directory = try TemporaryDirectory("cog-config")
    if let yaml { try directory.write("cog.yaml", yaml) }
    if predictors, yaml != nil {
        for name in ["predict.py", "run.py", "train.py", "model.py", "infer.py"] { try directory.write(name, "") }
    }
    for (name, contents) in files { try directory.write(name, contents) }
    return directory
}

/// Loads `yaml` as the cog.yaml of a fresh project holding `files`.
func load(_ yaml: String, files: [String: String] = [:]) throws -> LoadedConfig {
    let project = try makeProject(yaml, files: files)
    return try ConfigLoader.load(projectDirectory: project.path)
}

/// The error loading `yaml` gives, or nil when it loads.
func loadError(_ yaml: String, files: [String: String] = [:]) throws -> ConfigError? {
    let project = try makeProject(yaml, files: files)
    do {
        _ = try ConfigLoader.load(projectDirectory: project.path)
        return nil
    } catch {
        return error
    }
}

/// The messages of the errors loading `yaml` gives (empty when it loads).
func errorMessages(_ yaml: String, files: [String: String] = [:]) throws -> [String] {
    try loadError(yaml, files: files)?.diagnostics.map(\.message) ?? []
}

/// The plan for `yaml` in a fresh project holding `files`.
func plan(_ yaml: String, files: [String: String] = [:], base: String? = nil, options: BuildPlanner.Options = .init()) throws -> BuildPlan {
    let project = try makeProject(yaml, files: files)
    let loaded = try ConfigLoader.load(projectDirectory: project.path)
    return try BuildPlanner.plan(config: loaded.config, projectDirectory: project.path, baseImageOverride: base, options: options)
}

/// The `RunStep`s of a plan.
func runSteps(_ plan: BuildPlan) -> [RunStep] {
    plan.steps.compactMap { if case let .run(step) = $0 { step } else { nil } }
}

/// The built `cog` executable beside the test bundle.
func cogExecutable() throws -> String {
    let candidates = [Bundle.main.bundleURL.appendingPathComponent("cog").path, "\(packageRoot)/.build/debug/cog"]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw ConfigError.file("cog", "the cog executable was not built (looked in \(candidates.joined(separator: ", ")))")
    }
    return found
}
