import ArgumentParser
import CogEngine
import Foundation
import Layers

/// `cog unshare`: runs a command in the user namespace rootless builds use, where the files a build wrote as
/// subordinate ids (the layer store, step scratch dirs) can be read and removed.
struct UnshareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unshare", abstract: "Run a command in the user namespace of rootless builds.",
        discussion: """
            Rootless builds with a subordinate id range (/etc/subuid) leave files in the cache that belong to those \
            ids, which the caller cannot remove directly: `cog unshare rm -rf ~/.cache/cog`. As root, or without a \
            range, the command simply runs. Without a command, runs $SHELL.
            """)

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func run() throws {
        Environment.current.enterUserNamespaceIfPossible()
        let argv = command.isEmpty ? [Environment.current.variables["SHELL"] ?? "/bin/sh"] : command
        let cArguments = argv.map { strdup($0) } + [nil]
        execvp(argv[0], cArguments)
        throw ValidationError("cannot run \(argv[0]): \(String(cString: strerror(errno)))")
    }
}
