import ArgumentParser
import CogEngine
import Foundation

/// The `cog` command line: a daemonless Cog.
@main
struct CogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cog",
        abstract: "Build, push and run Cog models as OCI images, without Docker.",
        discussion: """
            Reads cog.yaml, builds the image layer by layer in a rootless sandbox, writes OCI layouts or pushes \
            straight to a registry, and serves predictions with the real cog runtime.
            """,
        version: "cog version \(CogVersion.this) (daemonless)",
        subcommands: [
            BuildCommand.self, PushCommand.self, PredictCommand.self, TrainCommand.self, RunCommand.self,
            ServeCommand.self,
            LoginCommand.self, DebugCommand.self, InitCommand.self, PullCommand.self, UnshareCommand.self,
            LayerCommand.self, CaptureBenchCommand.self, DoctorCommand.self, WeightsCommand.self,
        ]
    )

    /// Parses Cog's boolean flags as Cog does (`CogFlags`), then runs the command.
    static func main() async {
        await main(CogFlags.normalized(CogFlags.routed(Array(CommandLine.arguments.dropFirst()))))
    }
}
