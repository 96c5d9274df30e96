/// Why no cog-base image can be used.
public enum CogBaseImageError: Error, CustomStringConvertible {
    /// No cog-base image exists for this CUDA, Python and torch: not among the combinations Cog builds, or not
    /// in the registry. Versions as Cog normalised them (nil: none).
    case unsupported(cuda: String?, python: String, torch: String?)
    /// `python_version` is not a version Cog can strip to `major.minor`.
    case invalidPython(String)
    /// The registry could not say whether the image exists (unreachable, refused, unauthorized).
    case registry(reference: String, underlying: any Error)

    /// Cog's own words, as its warning quotes them in parentheses.
    public var reason: String {
        switch self {
        case .unsupported(let cuda, let python, let torch):
            "unsupported base image configuration: CUDA: \(cuda ?? "(none)") / Python: \(python) / Torch: \(torch ?? "(none)")"
        case .invalidPython(let version): "Invalid version: \(version)"
        case .registry(let reference, let underlying): "cannot check \(reference): \(underlying)"
        }
    }

    public var description: String {
        switch self {
        case .unsupported:
            "\(reason): Replicate publishes no cog-base image for it; pass --use-cog-base-image=false to build on python-slim or nvidia/cuda, or change python_version, cuda or the torch pin"
        case .invalidPython:
            "\(reason): python_version must be MAJOR.MINOR[.PATCH] for a cog-base image; pass --use-cog-base-image=false to build without one"
        case .registry:
            "\(reason); check the network (or COG_REGISTRY_HOST, COG_REGISTRY_MIRRORS), or pass --use-cog-base-image=false to build without a cog-base image"
        }
    }
}
