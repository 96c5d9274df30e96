import Foundation
import TestSupport
import Testing

/// `-e NAME=value` takes one rule in every command that starts the model, checked before anything is built.
@Suite struct EnvironmentFlagTests {
    @Test(arguments: [["predict"], ["train"], ["exec", "true"]])
    func aMalformedVariableIsRefusedFirst(_ command: [String]) throws {
        let cog = try cogExecutable()
        let dir = try TemporaryDirectory("env-flag")
        for bad in ["NOEQUALS", "=value", "TWO WORDS=x"] {
            let head = Array(command.prefix(1))
            let tail = Array(command.dropFirst())
            let result = try runCommand([cog] + head + ["-e", bad] + tail, directory: dir.path)
            #expect(result.status == 64, "\(command) -e \(bad): \(result.output)")
            #expect(result.stderr.contains("-e takes NAME=value, not \"\(bad)\""), "\(result.stderr)")
            #expect(!result.stderr.contains("FROM"), "refused before building")
        }
    }
}
