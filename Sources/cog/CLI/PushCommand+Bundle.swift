import ArgumentParser
import CogEngine
import Foundation
import OCI
import Registry

/// `cog push` for a project with a model reference (`model:` in cog.yaml, or `COG_MODEL*`): the image goes to
/// the model's repository as `cog-image.<tag>`, then an index of the image and the imported weights under the tag.
extension PushCommand {
    /// The bundle to push, or nil for an ordinary image push.
    static func bundle(for loaded: LoadedConfig, positional: String?) throws -> WeightBundle? {
        let environment = Environment.current
        guard
            let model = try ModelReference.resolve(
                loaded, overrides: environment.modelOverrides, registryHost: environment.registryHost)
        else { return nil }
        if positional != nil {
            throw ValidationError(
                "positional image argument not supported with 'model' config\n  use COG_MODEL to override the full reference\n  use COG_MODEL_TAG to override just the tag"
            )
        }
        return try WeightBundle(model: model, loaded: loaded)
    }

    /// Before anything is built or pushed: the weights a bundle needs must be in the registry already.
    static func verifyBundle(options: BuildOptions, positional: String?, reporter: BuildReporter) async throws {
        let (projectDirectory, configFile) = DebugCommand.locate(options.file)
        guard let loaded = try? ConfigLoader.load(projectDirectory: projectDirectory, configFile: configFile) else {
            return  // the build reports what is wrong with cog.yaml
        }
        try await runReportingErrors {
            guard let bundle = try Self.bundle(for: loaded, positional: positional) else { return }
            try await bundle.verify(transfer: transfer(reporter))
        }
    }

    /// Puts the index and prints the tree of what was pushed (the index's reference on standard output).
    static func finish(_ bundle: WeightBundle, image: StoredImage, report: PushReport, reporter: BuildReporter)
        async throws
    {
        reporter.pushReport(report)
        let (digest, tree) = try await bundle.finish(image: image.descriptor, transfer: transfer(reporter))
        printError("")
        for line in tree { printError(line) }
        print("\(bundle.model.repositoryName)@\(digest)")
    }
}
