import ArgumentParser
import CogEngine
import Foundation
import OCI

/// `--gpus`, as in Cog and Docker, for the commands that run a model.
struct GPUOptions: ParsableArguments {
    @Option(
        name: .customLong("gpus"),
        help: ArgumentHelp(
            "GPUs for the model: all, a count, or device=NAME[,NAME…] (default: all for gpu: true models).",
            discussion:
                "Taken from the CDI specs in /etc/cdi and /var/run/cdi (COG_CDI_SPEC_DIRS), else from the NVIDIA driver itself. Without either, the model runs on CPU with a warning."
        ))
    var gpus: String?

    func validate() throws {
        if let gpus {
            do { _ = try GPURequest(parsing: gpus) } catch { throw ValidationError("\(error)") }
        }
    }

    /// The GPUs to give a model from `image`: `--gpus`, else all for a `gpu: true` image; nil when it runs on CPU
    /// (a CPU model, or no GPU here: then one warning line). Errors (a malformed spec, an unknown device) are
    /// printed and exit 1.
    func edits(for image: StoredImage, reporter: BuildReporter) async throws -> GPUEdits? {
        let requested = try gpus.map { try GPURequest(parsing: $0) } ?? GPURequest.automatic(for: image)
        guard let request = requested else { return nil }
        let settings = Environment.current.gpuSettings
        let access = try await runReportingErrors {
            try await Blocking.run { try GPUAccess.find(request, settings: settings) }
        }
        switch access {
        case .granted(let edits, let warnings):
            reporter.info("GPUs: \(edits.summary)")
            if !edits.skippedHooks.isEmpty {
                reporter.info(
                    "   CDI hooks left out (cog does the work of update-ldcache and create-symlinks only): "
                        + edits.skippedHooks.joined(separator: ", "))
            }
            for warning in warnings { reporter.warning(warning) }
            return edits
        case .unavailable(let reason):
            reporter.warning("no GPU for the model (--gpus \(request)): \(reason); running on CPU")
            return nil
        }
    }
}
