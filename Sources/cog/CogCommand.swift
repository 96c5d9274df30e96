import ArgumentParser
import Foundation

/// The `cog` command line: a daemonless Cog.
@main
struct CogCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "cog",
        abstract: "Build, push and run Cog models as OCI images, without Docker.",
        discussion: """
        Reads cog.yaml, builds the image layer by layer in a rootless sandbox, writes OCI layouts or pushes \
        straight to a registry, and serves predictions with the real cog runtime.
        """,
        version: "cog version \(version) (daemonless)",
        subcommands: [
            BuildCommand.self, PushCommand.self, PredictCommand.self, RunCommand.self, ServeCommand.self,
            LoginCommand.self, DebugCommand.self, InitCommand.self, LayerCommand.self,
        ]
    )
}

/// A subcommand whose implementation has not landed yet: it says so and exits non-zero, never pretends.
protocol NotYetBuilt: AsyncParsableCommand {
    static var plannedIn: String { get }
}

extension NotYetBuilt {
    func run() async throws {
        let name = Self.configuration.commandName ?? "this command"
        FileHandle.standardError.write(Data("cog \(name) is not built yet in this daemonless cog (\(Self.plannedIn)).\n".utf8))
        throw ExitCode(2)
    }
}
