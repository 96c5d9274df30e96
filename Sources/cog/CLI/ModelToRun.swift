import CogEngine
import Foundation
import OCI

/// The model `cog predict`, `serve`, `train` or `exec` runs: an image from the local store, or, without one, the
/// project in the working directory built without its copy and mounted at /src (as Cog does), so an edit to the
/// code is served at once and writes no layer.
struct ModelToRun {
    let image: StoredImage
    /// The project to mount read-write at /src; nil to run a named image as it is.
    let projectDirectory: String?
    /// The OpenAPI schema inputs are checked against: the named image's label, or the mounted project's own.
    let schema: String?
    /// The project's managed weights, assembled for mounting (`remove()` once the model stops).
    var weights: WeightMounts? = nil

    var weightBinds: [(source: String, target: String)] { weights?.binds ?? [] }

    /// - Parameters:
    ///   - name: the image named on the command line, or nil to build the project and mount it.
    ///   - schema: whether the build makes the project's schema (the runtime validates inputs against it).
    static func resolve(
        _ name: String?, options: BuildOptions, reporter: BuildReporter, paths: CogPaths, schema: Bool = true
    ) async throws -> ModelToRun {
        if let name {
            let image = try await runReportingErrors { try LocalImages(paths: paths).load(name: name) }
            return ModelToRun(
                image: image, projectDirectory: nil,
                schema: image.configuration.config?.labels?["run.cog.openapi_schema"])
        }
        let (built, loaded, _) = try await options.build(reporter: reporter, project: .mounted(schema: schema))
        let weights = try await runReportingErrors {
            try WeightMounts.prepare(loaded: loaded, store: Environment.current.weightStore)
        }
        return ModelToRun(
            image: built.image, projectDirectory: loaded.projectDirectory, schema: built.schema, weights: weights)
    }
}
