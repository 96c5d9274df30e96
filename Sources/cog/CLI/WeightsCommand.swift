import ArgumentParser
import CogEngine
import Foundation
import Registry

/// `cog weights import | pull | status`: Cog's managed weights, pushed beside the model in its repository.
struct WeightsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights", abstract: "Manage model weights (experimental, as in Cog).",
        discussion:
            "Weights named under weights: in cog.yaml are pushed as OCI artifacts to the model's repository (model: in cog.yaml, or COG_MODEL / COG_MODEL_REGISTRY / COG_MODEL_REPO), recorded in weights.lock, kept in the local store under the cache directory, and mounted read-only at their targets by predict and serve.",
        subcommands: [WeightsImportCommand.self, WeightsPullCommand.self, WeightsStatusCommand.self])

    /// The project, its model reference and the store, as every subcommand needs them.
    struct Context {
        let loaded: LoadedConfig
        let model: ModelReference
        let store: WeightFileStore

        static func load(file: String) async throws -> Context {
            printError("NOTE: cog weights is experimental. Behavior may change in future versions.")
            printError("Do not rely on it in production workflows.\n")
            let (projectDirectory, configFile) = DebugCommand.locate(file)
            return try await runReportingErrors {
                let loaded = try ConfigLoader.load(projectDirectory: projectDirectory, configFile: configFile)
                let environment = Environment.current
                let model = try ModelReference.required(
                    loaded, overrides: environment.modelOverrides, registryHost: environment.registryHost)
                return Context(loaded: loaded, model: model, store: environment.weightStore)
            }
        }
    }

    static func log(_ line: String) { printError(line) }
}

struct WeightsImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Build and push weights to a registry.")

    @Argument(help: "The weights to import (all when none is named).") var names: [String] = []
    @Option(name: .shortAndLong, help: "The config file.") var file = "cog.yaml"
    @Flag(name: .customLong("dry-run"), help: "Show what would be imported; store and push nothing.") var dryRun = false
    @Flag(name: .shortAndLong, help: "List each weight's included and excluded files.") var verbose = false

    func run() async throws {
        Environment.current.enterUserNamespaceIfPossible()
        let context = try await WeightsCommand.Context.load(file: file)
        let paths = try await runReportingErrors { try Environment.current.checkedPaths() }
        try await runReportingErrors {
            try await WeightImport(
                loaded: context.loaded, model: context.model, store: context.store, blobs: paths.blobs,
                transfer: PushCommand.transfer(BuildReporter(mode: .plain)), log: WeightsCommand.log
            ).run(names: names, dryRun: dryRun, verbose: verbose)
        }
    }
}

struct WeightsPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Populate the local weight cache from the registry.")

    @Argument(help: "The weights to pull (all when none is named).") var names: [String] = []
    @Option(name: .shortAndLong, help: "The config file.") var file = "cog.yaml"
    @Flag(name: .shortAndLong, help: "Show the cache, the lockfile, and each layer and file.") var verbose = false

    func run() async throws {
        let context = try await WeightsCommand.Context.load(file: file)
        try await runReportingErrors {
            try await WeightPull(
                projectDirectory: context.loaded.projectDirectory, model: context.model, store: context.store,
                transfer: PushCommand.transfer(BuildReporter(mode: .plain)), log: WeightsCommand.log
            ).run(names: names, verbose: verbose)
        }
    }
}

struct WeightsStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the status of configured weights.")

    @Option(name: .shortAndLong, help: "The config file.") var file = "cog.yaml"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let context = try await WeightsCommand.Context.load(file: file)
        let report = try await runReportingErrors {
            try WeightStatus(loaded: context.loaded, store: context.store).rows()
        }
        if json {
            print(report.json)
        } else {
            print(report.table, terminator: "")
        }
        if !report.allReady {
            printError("error: not all weights are ready")
            throw ExitCode(1)
        }
    }
}
