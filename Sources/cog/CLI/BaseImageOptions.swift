import ArgumentParser
import CogEngine
import Foundation

/// How the base image is chosen: cog's choice, `--base-image`, or Cog's `--use-cuda-base-image` and
/// `--use-cog-base-image` switches (accepted so that Cog's command lines work unchanged).
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
            "true (also given bare) or false; accepted for Cog compatibility: this cog never uses r8.im/cog-base images (the base is python-slim or nvidia/cuda)."
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

    /// What the user should know about the switches given.
    var notes: [String] {
        useCogBaseImage?.lowercased() == "true"
            ? ["--use-cog-base-image: cog-base images are not used; the image builds on python-slim or nvidia/cuda"]
            : []
    }
}
