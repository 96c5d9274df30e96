/// The cog-base image Cog would choose, before asking the registry (`pkg/dockerfile/base.go`:
/// `BaseImageConfigurations`, `baseImageComponentNormalisation`, `BaseImageConfigurationExists`).
extension CogBaseImage {
    /// The oldest versions Cog builds cog-base images for.
    static let minimumPython = "3.10"
    static let minimumTorch = "1.13.1"
    static let minimumCUDA = "11.6"

    /// A CUDA × Python × torch combination Cog publishes (torch as in the table, local part kept).
    struct Combination: Hashable {
        var cuda: String?
        var python: String
        var torch: String?
    }

    /// The cog-base image for `config` (CUDA only for GPU models, Python without its patch, the torch the
    /// requirements name), and the warnings Cog prints on the way.
    static func candidate(
        for config: CompletedConfig, registryHost: String, torchBuilds: [TorchBuild]
    ) -> (image: Result<CogBaseImage, CogBaseImageError>, warnings: [String]) {
        guard let python = ReleaseVersion(config.pythonVersion) else {
            return (.failure(.invalidPython(config.pythonVersion)), [])
        }
        let stripped = python.majorMinor
        let warnings =
            stripped == config.pythonVersion
            ? [] : ["Stripping patch version from Python version \(config.pythonVersion) to \(stripped)"]
        let cuda = config.gpu ? config.config.build.cuda : nil
        return (
            candidate(
                cuda: cuda, python: stripped, torch: config.torchVersion, registryHost: registryHost,
                torchBuilds: torchBuilds), warnings
        )
    }

    /// The image for these versions when Cog publishes one: torch is normalised to the newest release matching it
    /// (`2.3` → `2.3.1`); a torch no combination has is dropped from the tag, as Cog drops it.
    static func candidate(
        cuda: String?, python: String, torch: String?, registryHost: String, torchBuilds: [TorchBuild]
    ) -> Result<CogBaseImage, CogBaseImageError> {
        let all = combinations(torchBuilds)
        let cuda = cuda.flatMap { $0.isEmpty ? nil : $0 }
        let torch = torch.flatMap { $0.isEmpty ? nil : $0 }
        var newestTorch: String?
        for combination in all
        where compatible(combination.cuda, cuda) && compatible(combination.python, python)
            && compatible(combination.torch, torch)
        {
            guard let candidate = combination.torch else { continue }
            if newestTorch == nil || isGreater(candidate, than: newestTorch ?? "") {
                newestTorch = ReleaseVersion.strippingLocal(candidate)
            }
        }
        let valid = all.contains {
            compatible($0.cuda, cuda) && compatible($0.python, python) && compatible($0.torch, newestTorch)
        }
        guard valid else { return .failure(.unsupported(cuda: cuda, python: python, torch: newestTorch)) }
        return .success(
            CogBaseImage(
                registryHost: registryHost, cuda: cuda.map { ReleaseVersion($0)?.majorMinor ?? $0 }, python: python,
                torch: newestTorch))
    }

    /// Cog's combinations: each torch build (torch ≥ 1.13.1, Python ≥ 3.10, CUDA ≥ 11.6 or CPU), then every Python
    /// with every CUDA of those builds without torch, then each such Python alone.
    static func combinations(_ builds: [TorchBuild]) -> [Combination] {
        var result: [Combination] = []
        var pythons: [String] = []
        var cudas: [String] = []
        for build in builds {
            for python in build.pythons
            where isGreaterOrEqual(python, minimumPython) && isGreaterOrEqual(build.torch, minimumTorch) {
                guard let cuda = build.cuda else {
                    result.append(Combination(cuda: nil, python: python, torch: build.torch))
                    continue
                }
                guard isGreaterOrEqual(cuda, minimumCUDA) else { continue }
                result.append(Combination(cuda: cuda, python: python, torch: build.torch))
                if !pythons.contains(python) { pythons.append(python) }
                if !cudas.contains(cuda) { cudas.append(cuda) }
            }
        }
        for python in pythons {
            result += cudas.map { Combination(cuda: $0, python: python, torch: nil) }
            result.append(Combination(cuda: nil, python: python, torch: nil))
        }
        return result
    }

    /// Cog's `isVersionCompatible`: both absent, or the requested version matches the combination's.
    private static func compatible(_ offered: String?, _ requested: String?) -> Bool {
        guard let offered, let requested else { return offered == nil && requested == nil }
        return ReleaseVersion.matches(requested, offered)
    }

    /// Cog's `version.Greater`: by major, minor and patch (missing: 0); the local part is ignored.
    private static func isGreater(_ lhs: String, than rhs: String) -> Bool {
        guard let left = ReleaseVersion(lhs), let right = ReleaseVersion(rhs) else { return false }
        return left > right
    }

    /// Cog's `version.GreaterOrEqual`, whose "equal" also compares the local part: `1.13.1+cu117` is neither
    /// greater than nor equal to `1.13.1`, so Cog publishes no torch 1.13.1 combination (every such build in the
    /// table has a local part). Kept as Cog has it, so the same tags are chosen.
    private static func isGreaterOrEqual(_ lhs: String, _ rhs: String) -> Bool {
        guard let left = ReleaseVersion(lhs), let right = ReleaseVersion(rhs) else { return lhs == rhs }
        return left > right
            || (left.major == right.major && left.minor == right.minor
                && (left.patch ?? 0) == (right.patch ?? 0) && left.local == right.local)
    }
}
