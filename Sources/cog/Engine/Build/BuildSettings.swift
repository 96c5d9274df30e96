import Foundation
import Layers
import OCI
import Registry

/// Everything about a build that does not come from cog.yaml: where state lives, how layers are written, how
/// registries are reached, what the host passes to steps. The command line fills it in once, from flags and the
/// environment; the engine never reads either.
public struct BuildSettings: Sendable {
    public var paths: CogPaths
    public var layers: LayerOptions
    public var registry: RegistrySettings
    /// Credentials for pulls (Docker's config and helpers).
    public var credentials: DockerConfig
    /// How ids in steps map to ids on disk.
    public var mapping: IDMapping
    /// Why cog did not enter a user namespace of its own, when rootless and it did not (shown with the mode).
    public var mappingNote: String?
    /// The build machine's environment as steps may see it (proxies, package indexes, `SSL_CERT_FILE`).
    public var host: [String: String]
    /// Build secrets by id (`--secret`).
    public var secrets: [BuildSecret]
    /// Run every step again instead of reusing the step cache.
    public var noCache = false
    /// Registry repositories used as step caches (`--cache-from`, `--cache-to`).
    public var registryCache = RegistryCacheSettings()
    /// `--openapi-schema`: a schema file to use instead of generating one.
    public var schemaFile: String?
    /// Force the snapshot capture method (`COG_CAPTURE=snapshot`); otherwise overlay where it mounts.
    public var forceSnapshotCapture = false
    /// The steps' network (`--network`).
    public var network: Confinement.Network = .isolated
    /// Whether the project is copied into the image (`cog build`) or mounted at /src when the model runs.
    public var project: ProjectSource = .copied

    /// How far steps are shut off from the host, as this machine allows.
    var confinement: Confinement { .detect(network: network, searchPath: host["PATH"] ?? "/usr/bin:/bin") }
    /// How pip and uv steps are cut into layers (a layer per large distribution).
    public var packageSplit = LayerSplit()
    /// Which project files get layers of their own, before the code layer.
    public var weights = WeightsSplit()

    public init(
        paths: CogPaths, layers: LayerOptions, registry: RegistrySettings, credentials: DockerConfig,
        mapping: IDMapping,
        host: [String: String], secrets: [BuildSecret] = []
    ) {
        self.paths = paths
        self.layers = layers
        self.registry = registry
        self.credentials = credentials
        self.mapping = mapping
        self.host = host
        self.secrets = secrets
    }

    /// What shapes every layer blob besides its content: a step cached under other settings is not reused.
    var layerMaterial: String {
        "layers \(layers.compression.rawValue) level \(layers.level) epoch \(layers.sourceDateEpoch)"
            + (mapping == .single ? " owners single" : "")
    }

    /// The image's `created` time and history dates: `SOURCE_DATE_EPOCH` (or `--timestamp`) in RFC 3339.
    var created: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(layers.sourceDateEpoch)))
    }
}

/// How the project reaches the model. `cog build` copies it into layers; `cog predict`, `serve`, `train` and
/// `exec` without an image build everything but that copy (as Cog's ExcludeSource builds) and mount the project at
/// /src, so an edit to the code needs no new layer.
public enum ProjectSource: Sendable, Equatable {
    /// `COPY . /src` (and the weights layers), the schema as a layer and a label, `pip freeze` as a label.
    case copied
    /// Neither the project nor the steps after its copy, nor the weights, nor labels of code facts. With
    /// `schema`, the OpenAPI schema is generated from the project mounted at /src and written to its
    /// `.cog/openapi_schema.json`, where the runtime reads it through the mount (`cog exec` needs none).
    case mounted(schema: Bool)
}

/// Where a build reports what it does. The command line prints it (plain, live or JSON); tests collect it.
public protocol BuildProgress: TransferProgress {
    /// A phase or step begins.
    func step(_ index: Int, of total: Int, _ title: String, cached: Bool)
    /// A line the running step printed.
    func output(_ line: String)
    func info(_ message: String)
    func warning(_ message: String)
}
