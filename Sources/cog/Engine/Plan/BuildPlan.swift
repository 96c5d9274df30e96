/// Everything a build does, in order: the single source of truth the builder executes and `cog debug` prints.
///
/// The plan is generic Dockerfile-like data (FROM, then `steps`, then the image config), so the executor needs no
/// knowledge of cog. Nothing downstream re-reads cog.yaml.
public struct BuildPlan: Sendable, Equatable {
    /// The image to start from: `python:3.12-slim`, `nvidia/cuda:<tag>`, or the `--base-image` override.
    public var baseImage: String
    /// The Python the image runs (`3.12`, `3.11.9`).
    var pythonVersion: String
    var steps: [BuildStep]
    /// Entrypoint, command, env and labels of the finished image.
    var image: PlannedImageConfig
    /// The completed config the plan was made from (also in the `run.cog.config` label).
    var config: CompletedConfig
    /// The predictor (`predict.py:Predictor`) and trainer the image serves, for Cog's finishing (the schema).
    var predictor: String?
    var trainer: String?
    /// The cog-base image the plan builds on (`r8.im/cog-base:python3.12`), nil on python-slim or nvidia/cuda.
    var cogBaseImage: String?
    /// Project paths (files or directories) that cog.yaml's `weights` name as local sources: their files get
    /// layers of their own, before the code layer.
    var weightPaths: [String] = []
}

/// The version of this cog.
public enum CogVersion {
    public static let this = "0.1.0"
    /// This cog as the `run.cog.builder` label names it.
    static let builder = "cog-daemonless \(this)"
}

/// The image configuration a plan produces, on top of the base image's.
struct PlannedImageConfig: Sendable, Equatable {
    var entrypoint: [String]
    var cmd: [String]
    var workingDir: String
    /// Ports in OCI form, `5000/tcp`.
    var exposedPorts: [String]
    /// The net effect of every `.env` step, in first-set order with the last value kept, on top of the base's
    /// env. Values may still reference variables (`$LD_LIBRARY_PATH`); expand them against the base env with
    /// `EnvVar.expandedValue(lookup:)`.
    var env: [EnvVar]
    var labels: [String: String]
}

extension BuildPlan {
    /// Label keys: namespace `run.cog.` as Cog writes them (`builder` is ours: this cog's own version, as Cog
    /// has no such label), and the OCI annotations for the project's git revision.
    enum Label {
        static let version = "run.cog.version"
        static let config = "run.cog.config"
        static let hasInit = "run.cog.has_init"
        static let cogBaseImageName = "run.cog.cog-base-image-name"
        static let cogBaseImageLastLayerSHA = "run.cog.cog-base-image-last-layer-sha"
        static let cogBaseImageLastLayerIndex = "run.cog.cog-base-image-last-layer-idx"
        static let builder = "run.cog.builder"
        static let revision = "org.opencontainers.image.revision"
        static let sourceVersion = "org.opencontainers.image.version"
    }

    /// The `.env` steps folded into one list: first-set order, last value wins.
    static func netEnvironment(of steps: [BuildStep]) -> [EnvVar] {
        var result: [EnvVar] = []
        for case .env(let variables) in steps {
            for variable in variables {
                if let index = result.firstIndex(where: { $0.name == variable.name }) {
                    result[index].value = variable.value
                } else {
                    result.append(variable)
                }
            }
        }
        return result
    }
}
