/// A cog.yaml with everything resolved that the build needs, as Cog's `Config.Complete` leaves it.
public struct CompletedConfig: Sendable, Equatable {
    /// cog.yaml as written, with `python_version`, `cuda` and `cudnn` filled in as resolved.
    public var config: CogConfig
    /// The Python the image runs, as written or chosen (`3.12`, `3.11.9`).
    public var pythonVersion: String
    /// For GPU builds, the `nvidia/cuda:<tag>` base chosen from CUDA and cuDNN; nil for CPU builds.
    public var cudaBaseImage: String?
    /// The lines of the generated requirements.txt (index options first, torch pins rewritten, cog removed);
    /// empty when there is nothing to install.
    var requirements: [String]
    /// The cog runtime package to install.
    var runtime: CogRuntime
    /// cog.yaml's `environment`, sorted by name as Cog writes it.
    var environment: [EnvVar]
    /// The config file's path relative to the project (`cog.yaml` unless another was named).
    var configFile: String
    /// Package archives from the project that the requirements install (copied in before them).
    var localArtifacts: [LocalArtifact] = []
    /// The version the first `torch` requirement names (`2.3` in `torch==2.3`), as Cog's `TorchVersion` reads it;
    /// nil when torch is not required or names no version. It chooses the cog-base image's tag.
    var torchVersion: String?

    var gpu: Bool { config.build.gpu }
}

/// A loaded cog.yaml: the completed config, the warnings found on the way, and where it came from.
public struct LoadedConfig: Sendable, Equatable {
    public var config: CompletedConfig
    /// Warnings (deprecated keys, the older schema, removed `cog` pins …), in the order found.
    public var warnings: [ConfigDiagnostic]
    /// The absolute project directory (the folder holding the config file).
    public var projectDirectory: String
}
