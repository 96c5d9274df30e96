import CogEngine
import Foundation
import Layers
import OCI
import Registry

/// The one place where the process environment becomes settings values; nothing below the command line reads
/// it. Variables: `COG_CACHE_DIR`, `XDG_CACHE_HOME`, `HOME`, `SOURCE_DATE_EPOCH`, `COG_REGISTRY_MIRRORS`,
/// `COG_INSECURE_REGISTRIES`, `COG_REGISTRY_RETRIES`, `COG_REGISTRY_HOST`, `COG_MODEL*`, `COG_PUSH_*`, `COG_LABEL_VERSION`, `GITHUB_SHA`,
/// `GITHUB_REF_NAME`, `SSL_CERT_FILE`, `DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, `COG_CAPTURE`, `COG_ROOTLESS`,
/// `COG_USERNS`, `COG_UV_INDEX`, `UV_PYTHON_INSTALL_MIRROR`, `COG_CA_CERT`, `COG_PACKAGE_LAYER_MIB`,
/// `COG_WEIGHTS_LAYER_MIB`, `BUILDKIT_PROGRESS`, `TERM`, `COG_CDI_SPEC_DIRS`, `COG_NVIDIA_DEV_DIR`,
/// `COG_NVIDIA_LD_CACHE`, `UV_PYTHON_DOWNLOADS_JSON_URL`, and the proxy and package-index variables steps see.
struct Environment {
    let variables: [String: String]

    static let current = Environment(variables: ProcessInfo.processInfo.environment)

    var mapping: IDMapping { IDMapping.detect(environment: variables) }

    /// Why a rootless cog did not enter a user namespace of its own (shown with the single mapping).
    var mappingNote: String? {
        guard mapping == .single else { return nil }
        return UserNamespace.reasonToStayOutside(mapping: UserNamespace.subordinateMapping(), environment: variables)
            ?? "the mapping failed"
    }

    /// `$COG_CACHE_DIR`, else `$XDG_CACHE_HOME/cog`, else `~/.cache/cog`.
    var paths: CogPaths {
        let root: String
        if let dir = variables["COG_CACHE_DIR"], !dir.isEmpty {
            root = dir
        } else if let xdg = variables["XDG_CACHE_HOME"], !xdg.isEmpty {
            root = "\(xdg)/cog"
        } else {
            root = "\(variables["HOME"] ?? NSHomeDirectory())/.cache/cog"
        }
        return CogPaths(root: root, mapping: mapping)
    }

    /// `paths`, once its root is known to be usable: an existing directory cog may write, or a path whose first
    /// existing ancestor is such a directory.
    /// - Throws: `CommandError.invalidSetting` naming the variable it came from and the fix.
    func checkedPaths() throws -> CogPaths {
        let paths = self.paths
        let source =
            variables["COG_CACHE_DIR"].map { _ in "COG_CACHE_DIR" }
            ?? (variables["XDG_CACHE_HOME"] != nil ? "XDG_CACHE_HOME" : "HOME")
        var probe = paths.root
        while true {
            var st = stat()
            if stat(probe, &st) == 0 {
                let problem: String? =
                    st.st_mode & S_IFMT != S_IFDIR
                    ? "\(probe) is a file, not a directory"
                    : (access(probe, W_OK | X_OK) != 0 ? "\(probe) is not writable by this user" : nil)
                guard let problem else { return paths }
                throw CommandError.invalidSetting(
                    "the cache directory \(paths.root) (from \(source)) cannot be used: \(problem); point COG_CACHE_DIR at a directory cog may write"
                )
            }
            let parent = (probe as NSString).deletingLastPathComponent
            if parent == probe || parent.isEmpty { return paths }
            probe = parent
        }
    }

    /// `SOURCE_DATE_EPOCH` (default 0, 1970-01-01).
    var sourceDateEpoch: Int64 { variables["SOURCE_DATE_EPOCH"].flatMap { Int64($0) } ?? 0 }

    /// Replicate's registry, where `cog login` goes by default and cog-base images come from: `COG_REGISTRY_HOST`
    /// (a host, optionally with a path: `ghcr.io/replicate/cog`), else `r8.im`.
    var registryHost: String {
        guard let host = variables["COG_REGISTRY_HOST"], !host.isEmpty else { return CogBaseImage.defaultRegistryHost }
        return host.hasSuffix("/") ? String(host.dropLast()) : host
    }

    var registry: RegistrySettings {
        var settings = RegistrySettings()
        for item in (variables["COG_REGISTRY_MIRRORS"] ?? "").split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { continue }
            settings.mirrors[RegistrySettings.normalizeRegistry(parts[0]), default: []].append(parts[1])
        }
        settings.insecure = Set(
            (variables["COG_INSECURE_REGISTRIES"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            })
        if let value = variables["COG_REGISTRY_RETRIES"].flatMap(Int.init), value > 0 {
            settings.retry.maxAttempts = value
        }
        if let value = variables["COG_PUSH_CONCURRENCY"].flatMap(Int.init), value > 0 { settings.concurrency = value }
        // Cog's names first; ours (the older names) as aliases.
        if let value = positive(["COG_PUSH_MULTIPART_THRESHOLD", "COG_PUSH_CHUNK_THRESHOLD"]) {
            settings.chunkThreshold = value
        }
        if let value = positive(["COG_PUSH_DEFAULT_CHUNK_SIZE", "COG_PUSH_CHUNK_SIZE"]) { settings.chunkSize = value }
        settings.caBundle = variables["SSL_CERT_FILE"]
        return settings
    }

    /// The first of `names` set to a positive number.
    private func positive(_ names: [String]) -> Int64? {
        names.lazy.compactMap { variables[$0].flatMap(Int64.init) }.first { $0 > 0 }
    }

    /// How far sandboxed commands are confined here, for `network`.
    func confinement(network: Confinement.Network) -> Confinement {
        .detect(network: network, searchPath: variables["PATH"] ?? "/usr/bin:/bin")
    }

    /// `COG_MODEL`, `COG_MODEL_REGISTRY`, `COG_MODEL_REPO`, `COG_MODEL_TAG`: where a model with managed weights goes.
    var modelOverrides: ModelReference.Overrides {
        ModelReference.Overrides(
            model: variables["COG_MODEL"], registry: variables["COG_MODEL_REGISTRY"],
            repository: variables["COG_MODEL_REPO"], tag: variables["COG_MODEL_TAG"])
    }

    /// The weights store, `<cache>/weights`, where Cog keeps it.
    var weightStore: WeightFileStore { WeightFileStore(root: "\(paths.root)/weights") }

    var dockerConfig: DockerConfig { DockerConfig(environment: variables) }

    /// Where GPUs are described: `COG_CDI_SPEC_DIRS` (colon-separated, replacing /etc/cdi and /var/run/cdi);
    /// without a spec, the driver's nodes in `COG_NVIDIA_DEV_DIR` (default /dev) and libraries in the linker cache
    /// `COG_NVIDIA_LD_CACHE` (default /etc/ld.so.cache), its programs on `PATH`.
    var gpuSettings: GPUSettings {
        var settings = GPUSettings()
        if let dirs = variables["COG_CDI_SPEC_DIRS"] {
            settings.specDirectories = dirs.split(separator: ":").map(String.init)
        }
        if let dev = variables["COG_NVIDIA_DEV_DIR"], !dev.isEmpty { settings.deviceDirectory = dev }
        if let cache = variables["COG_NVIDIA_LD_CACHE"], !cache.isEmpty { settings.linkerCache = cache }
        if let path = variables["PATH"] { settings.searchPath = path }
        return settings
    }

    var http: CurlTransport { CurlTransport(caBundle: variables["SSL_CERT_FILE"]) }

    /// The host's `python3` on `PATH`, which reads a project's schema before it is built; nil when there is none.
    var hostPython: String? {
        (variables["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/python3" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Plan options for the project in `projectDirectory`: `COG_LABEL_VERSION` (the `run.cog.version` label) and the
    /// project's git revision, where CI's `GITHUB_SHA` and `GITHUB_REF_NAME` win over git's answers, as in Cog.
    func planOptions(projectDirectory: String) -> BuildPlanner.Options {
        var options = BuildPlanner.Options.from(environment: variables)
        if let label = variables["COG_LABEL_VERSION"], !label.isEmpty { options.cogVersionLabel = label }
        let given = GitRevision(
            commit: variables["GITHUB_SHA"].flatMap { $0.isEmpty ? nil : $0 },
            version: variables["GITHUB_REF_NAME"].flatMap { $0.isEmpty ? nil : $0 })
        options.revision = GitRevision.read(
            directory: projectDirectory, given: given, searchPath: variables["PATH"] ?? "/usr/bin:/bin")
        return options
    }

    /// Settings for a build with these layer options and secrets.
    func buildSettings(layers: LayerOptions, secrets: [BuildSecret]) throws -> BuildSettings {
        var settings = BuildSettings(
            paths: try checkedPaths(), layers: layers, registry: registry, credentials: dockerConfig, mapping: mapping,
            host: variables, secrets: secrets)
        settings.mappingNote = mappingNote
        settings.forceSnapshotCapture = variables["COG_CAPTURE"] == "snapshot"
        if let value = variables["COG_PACKAGE_LAYER_MIB"] {
            if value == "off" {
                settings.packageSplit = .none
            } else if let mib = Double(value), mib > 0 {
                settings.packageSplit.minimumPackageBytes = Int64(mib * 1_048_576)
            }
        }
        if let mib = variables["COG_WEIGHTS_LAYER_MIB"].flatMap(Double.init), mib > 0 {
            settings.weights.minimumBytes = Int64(mib * 1_048_576)
        }
        return settings
    }

    /// Re-executes this process in cog's user namespace when a rootless caller has a subordinate range.
    func enterUserNamespaceIfPossible() { UserNamespace.enterIfPossible(environment: variables) }
}
