import ArgumentParser
import CogEngine
import Foundation

/// `cog debug`: prints the build plan as a Dockerfile, then exits; on a bad cog.yaml prints every error.
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Print the build plan for cog.yaml as a Dockerfile.",
        discussion: "Warnings go to standard error. Exits 1, printing every problem found, when the config is invalid.")

    @Option(name: .shortAndLong, help: "The config file to read, relative to the project (found by searching upwards).")
    var file = "cog.yaml"
    @OptionGroup var base: BaseImageOptions

    func run() async throws {
        let (projectDirectory, configFile) = Self.locate(file)
        do {
            let loaded = try ConfigLoader.load(projectDirectory: projectDirectory, configFile: configFile)
            for warning in loaded.warnings { printError(warning.description) }
            let environment = Environment.current
            let cogBase = try await base.cogBase(for: loaded.config, environment: environment) {
                printError("warning: \($0)")
            }
            let plan = try BuildPlanner.plan(
                config: loaded.config, projectDirectory: projectDirectory,
                baseImageOverride: base.override(for: loaded.config), cogBase: cogBase,
                options: environment.planOptions(projectDirectory: projectDirectory))
            print(plan.dockerfile(), terminator: "")
        } catch let error as CogBaseImageError {
            printError("error: \(error)")
            throw ExitCode(1)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    /// The project directory and the config path within it: an absolute `-f` names both; otherwise the nearest
    /// folder upwards from the working directory holding the file (the working directory when none does).
    static func locate(_ file: String) -> (projectDirectory: String, configFile: String) {
        if file.hasPrefix("/") {
            return ((file as NSString).deletingLastPathComponent, (file as NSString).lastPathComponent)
        }
        let cwd = FileManager.default.currentDirectoryPath
        return (ConfigLoader.findProjectDirectory(from: cwd, configFile: file) ?? cwd, file)
    }
}
