import Foundation

/// One of Replicate's cog-base images, `r8.im/cog-base:<tag>`, which Cog builds on by default
/// (`pkg/dockerfile/base.go`): an image made by Cog's own generator with Python, torch (when named) and Cog's
/// usual system packages, which Replicate keeps pulled on its machines for faster cold boots.
public struct CogBaseImage: Sendable, Equatable {
    /// The registry (and path) it lives under: `r8.im`, or `COG_REGISTRY_HOST`.
    public var registryHost: String
    /// CUDA `major.minor` for GPU models (`12.8`), nil otherwise.
    public var cuda: String?
    /// Python `major.minor` (`3.12`).
    public var python: String
    /// The full torch release (`2.7.1`), or nil for an image without torch.
    public var torch: String?

    /// `cuda12.8-python3.12-torch2.7.1`: the components that are set, joined with `-` (Cog's `BaseImageName`).
    public var tag: String {
        let components = [cuda.map { "cuda\($0)" }, "python\(python)", torch.map { "torch\($0)" }].compactMap { $0 }
        return components.joined(separator: "-")
    }

    /// `r8.im/cog-base:<tag>`.
    public var reference: String { "\(registryHost)/\(Self.repository):\(tag)" }

    /// Replicate's registry (Cog's `global.ReplicateRegistryHost`).
    public static let defaultRegistryHost = "r8.im"
    static let repository = "cog-base"

    /// Whether Python in the image is uv's (CUDA 13 and later), which is "externally managed" (PEP 668): pip and
    /// uv then need `--break-system-packages`, and `python` is linked to it (Cog's `needsBreakSystemPackages`).
    var pythonIsUVManaged: Bool {
        guard let cuda, let version = ReleaseVersion(cuda) else { return false }
        return version >= ReleaseVersion(major: 13, minor: 0)
    }

    /// The system packages every cog-base image has (Cog's `baseImageSystemPackages`); the model's apt line
    /// leaves them out.
    static let systemPackages: Set<String> = [
        "build-essential", "cmake", "curl", "ffmpeg", "findutils", "g++", "gcc", "git", "libavcodec-dev",
        "libcairo2-dev", "libfontconfig1", "libgirepository1.0-dev", "libgl1", "libglx-mesa0", "libglib2.0-0",
        "libopencv-dev", "libsm6", "libsndfile1", "libssl-dev", "libunistring-dev", "libxext6", "libxrender1", "sox",
        "unzip", "wget", "zip", "zstd",
    ]
}
