import Foundation
import TestSupport

@testable import CogEngine

/// The package root, found from this file's path (Tests/cogTests/…).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

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
func plan(
    _ yaml: String, files: [String: String] = [:], base: String? = nil, cogBase: CogBaseImage? = nil,
    options: BuildPlanner.Options = .init()
) throws -> BuildPlan {
    let project = try makeProject(yaml, files: files)
    let loaded = try ConfigLoader.load(projectDirectory: project.path)
    return try BuildPlanner.plan(
        config: loaded.config, projectDirectory: project.path, baseImageOverride: base, cogBase: cogBase,
        options: options)
}

/// The `RunStep`s of a plan.
func runSteps(_ plan: BuildPlan) -> [RunStep] {
    plan.steps.compactMap { if case .run(let step) = $0 { step } else { nil } }
}
