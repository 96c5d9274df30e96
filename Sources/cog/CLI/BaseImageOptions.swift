import ArgumentParser
import CogEngine
import Foundation

/// How the base image is chosen: cog's choice, `--base-image`, or Cog's `--use-cuda-base-image` and
/// `--use-cog-base-image` switches. As in Cog, a cog-base image (`r8.im/cog-base:<tag>`) is tried unless
/// `--use-cog-base-image=false` or `--base-image` is given.
struct BaseImageOptions: ParsableArguments {
    @Option(name: .customLong("base-image"), help: "Build on this image instead of the one cog chooses.")
    var baseImage: String?
    @Option(
        name: .customLong("use-cuda-base-image"),
        help:
            "auto (default) or true: GPU models build FROM nvidia/cuda; false: FROM python:<version>-slim, CUDA coming with the torch wheels (as in Cog)."
    )
    var useCUDABaseImage: String?
    @Option(
        name: .customLong("use-cog-base-image"),
        help:
            "true (also given bare) or false. Not given: build on Replicate's r8.im/cog-base image for this CUDA, Python and torch when the registry has it, else (one warning) on python-slim or nvidia/cuda. true: that image or an error. false: never."
    )
    var useCogBaseImage: String?

    func validate() throws {
        if let baseImage, baseImage.isEmpty || baseImage.contains(where: \.isWhitespace) {
            throw ValidationError(
                "--base-image must be an image reference such as python:3.12-slim, not \"\(baseImage)\"")
        }
        if let value = useCUDABaseImage, !["auto", "true", "false"].contains(value.lowercased()) {
            throw ValidationError("--use-cuda-base-image must be auto, true or false, not \"\(value)\"")
        }
        if let value = useCogBaseImage, !["true", "false"].contains(value.lowercased()) {
            throw ValidationError(
                "--use-cog-base-image must be true or false, not \"\(value)\" (write --use-cog-base-image=false)")
        }
        let explicit = [
            baseImage.map { _ in "--base-image" }, useCUDABaseImage.map { _ in "--use-cuda-base-image" },
            useCogBaseImage.map { _ in "--use-cog-base-image" },
        ].compactMap { $0 }
        if explicit.count > 1 {
            throw ValidationError(
                "\(explicit.joined(separator: " and ")) are mutually exclusive: give only one of them")
        }
    }

    /// The base to build on instead of cog's choice, if any.
    func override(for config: CompletedConfig) -> String? {
        if let baseImage { return baseImage }
        if useCUDABaseImage?.lowercased() == "false", config.cudaBaseImage != nil {
            return "python:\(config.pythonVersion)-slim"
        }
        return nil
    }

    /// `--use-cog-base-image` as Cog reads it; `--base-image` names the base, so no cog-base image is tried.
    var cogBaseRequest: CogBaseImage.Request {
        if baseImage != nil { return .off }
        switch useCogBaseImage?.lowercased() {
        case "true": return .required
        case "false": return .off
        default: return .byDefault
        }
    }

    /// The cog-base image to build on, if any, checked with the registry; its warnings go to `warn`.
    /// - Throws: `CogBaseImageError` when `--use-cog-base-image=true` and no cog-base image can be used.
    func cogBase(for config: CompletedConfig, environment: Environment, warn: (String) -> Void) async throws
        -> CogBaseImage?
    {
        let selection = try await CogBaseImage.select(
            for: config, request: cogBaseRequest, registryHost: environment.registryHost,
            registry: environment.registry, credentials: environment.dockerConfig)
        for warning in selection.warnings { warn(warning) }
        return selection.image
    }
}
