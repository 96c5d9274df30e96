/// A cog.yaml as its author wrote it, in the current schema (`build`, `image`, `predict` …).
///
/// Older schemas are translated into this one when read. Values are kept as written (`python_version: 3.10`
/// is `"3.10"`); what they resolve to lives in `CompletedConfig`.
public struct CogConfig: Sendable, Equatable {
    var build = BuildSection()
    /// The image name used by build and push.
    public var image: String?
    /// A bare registry repository for Cog's OCI bundle push (the current meaning of `model:`).
    var model: String?
    /// The predictor, `file.py:Name`, from `predict:`, its alias `run:`, or the older `model:`.
    var predict: String?
    var train: String?
    /// `concurrency.max`.
    var concurrencyMax: Int?
    /// Top-level `environment` items as written, `NAME=value`.
    var environment: [String] = []
    /// Managed weights (experimental in Cog); recorded in the config label, not built.
    var weights: [WeightSource] = []
}

/// The `build` stanza (`environment` in the oldest schema).
struct BuildSection: Sendable, Equatable {
    var gpu = false
    var pythonVersion: String?
    var pythonRequirements: String?
    var pythonPackages: [String] = []
    var systemPackages: [String] = []
    var run: [RunItem] = []
    /// Deprecated in Cog; run after `run`, as Cog does.
    var preInstall: [String] = []
    var cuda: String?
    var cudnn: String?
    /// The cog SDK to install: a version or `prerelease`.
    var sdkVersion: String?
    /// pip option lines from the older `python_extra_index_urls` / `python_find_links` keys.
    var requirementOptions: [String] = []
}

/// One `build.run` item: a shell command and the secrets mounted while it runs.
struct RunItem: Sendable, Equatable {
    var command: String
    var mounts: [SecretMount] = []
}

/// A build secret mounted as a file while one `run` command runs; never stored in the image.
struct SecretMount: Sendable, Equatable {
    var id: String
    var target: String
    /// BuildKit's `required=true`: a build without this secret fails instead of running the step without it.
    var required = false
}

/// One managed weights entry: a name, where the files appear in the image, and where they come from.
struct WeightSource: Sendable, Equatable {
    /// Where one set of weight files comes from, and which of them to take.
    struct Location: Sendable, Equatable {
        var uri: String
        var include: [String] = []
        var exclude: [String] = []
    }

    var name: String
    var target: String
    var sources: [Location]
}

/// A decoded cog.yaml and the positions of the values later checks point at.
struct DecodedConfig: Sendable, Equatable {
    var config: CogConfig
    /// Value positions by dotted path: `build.cuda`, `build.python_packages.3`, `concurrency.max` …
    var marks: [String: SourceMark] = [:]
    /// Whether the file used the oldest schema (`environment:` stanza, `model:` as predictor).
    var usedLegacySchema = false
}
