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
    ///   - checkInputs: given the project's schema read from its source on the host before the build (as Cog
    ///     checks inputs before building), when it can be read there; what it throws ends the command unbuilt.
    static func resolve(
        _ name: String?, options: BuildOptions, reporter: BuildReporter, paths: CogPaths, schema: Bool = true,
        checkInputs: ((String) async throws -> Void)? = nil
    ) async throws -> ModelToRun {
        if let name {
            let image = try await runReportingErrors { try LocalImages(paths: paths).load(name: name) }
            return ModelToRun(
                image: image, projectDirectory: nil,
                schema: image.configuration.config?.labels?["run.cog.openapi_schema"])
        }
        let (python, schemaFile) = (Environment.current.hostPython, options.openAPISchema)
        let (built, loaded, _) = try await options.build(
            reporter: reporter, project: .mounted(schema: schema),
            beforeBuilding: { loaded, plan in
                guard let checkInputs else { return }
                let early = try await Blocking.run {
                    HostSchema.generate(
                        plan: plan, projectDirectory: loaded.projectDirectory, python: python, schemaFile: schemaFile)
                }
                if let early { try await checkInputs(early) }
            })
        let weights = try await runReportingErrors {
            try WeightMounts.prepare(loaded: loaded, store: Environment.current.weightStore)
        }
        return ModelToRun(
            image: built.image, projectDirectory: loaded.projectDirectory, schema: built.schema, weights: weights)
    }
}
