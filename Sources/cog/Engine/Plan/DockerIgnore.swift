import Foundation

/// The patterns of a project's `.dockerignore`, which `COPY . /src` honours as BuildKit does.
enum DockerIgnore {
    /// The path Cog always leaves out of the project copy (its build state).
    static let implicitExcludes = [".cog"]

    /// The patterns in `<projectDirectory>/.dockerignore` as written, in order, with comment and blank lines
    /// dropped and surrounding whitespace trimmed (`!` exceptions kept); empty when there is no such file.
    /// - Throws: `ConfigError` when the file exists but cannot be read.
    static func patterns(in projectDirectory: String) throws(ConfigError) -> [String] {
        let path = (projectDirectory as NSString).appendingPathComponent(".dockerignore")
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .file(".dockerignore", "\(path) cannot be read", hint: "check its permissions, or remove it")
        }
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// The project folders managed weights come from (`file://./dir`): the weights reach the model through their
    /// own artifacts, mounted at their targets, so the image does not carry a second copy. (Cog copies them unless
    /// `.dockerignore` names them, as its examples do.)
    static func weightSources(_ weights: [WeightSource], projectDirectory: String) -> [String] {
        BuildPlanner.localWeightPaths(weights, projectDirectory: projectDirectory).map { "/" + $0 }
    }

    /// The patterns in `.dockerignore` text.
    static func parse(_ text: String) -> [String] {
        text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
