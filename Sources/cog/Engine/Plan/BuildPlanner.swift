import Foundation

/// Turns a completed config into the ordered build plan, following Cog's generated Dockerfile
/// (`pkg/dockerfile/standard_generator.go`, the path without Cog's own base images).
///
/// Where Cog fetches from the network at build time, the plan substitutes (we cannot reach GitHub or ghcr.io):
/// - tini comes from the distribution's `tini` apt package, linked to /sbin/tini, instead of a GitHub download;
/// - on `python:X.Y-slim` bases, requirements and the cog runtime install with `python -m pip` (pip cache mount
///   `pip-cache`) instead of uv copied from `ghcr.io/astral-sh/uv`;
/// - on `nvidia/cuda` bases (no Python), Python is provisioned with uv as Cog does, but uv's wheel comes from a
///   PyPI simple index (`COG_UV_INDEX`, default https://pypi.org/simple, checked against its SHA-256), and
///   `UV_PYTHON_INSTALL_MIRROR` and `UV_PYTHON_DOWNLOADS_JSON_URL` are passed to `uv python install` when set;
/// - CFLAGS for packages built from source are Cog's without `-S` (see `cflags`);
/// - apt steps mount caches for /var/cache/apt (`apt-cache`) and /var/lib/apt/lists (`apt-lists`); the runner
///   handles apt's sandbox user.
public enum BuildPlanner {
    /// Settings read from the environment of the machine planning the build.
    public struct Options: Sendable, Equatable {
        /// The PyPI simple index uv's wheel is fetched from on nvidia/cuda bases.
        public var uvIndex: String
        /// Where `uv python install` downloads python-build-standalone from, when not its default.
        public var pythonInstallMirror: String?
        /// The list of Python builds uv reads instead of its built-in one (`UV_PYTHON_DOWNLOADS_JSON_URL`): uv
        /// checks each download against the SHA-256 of its list, so builds of one's own need a list of their own.
        public var pythonDownloadsJSON: String?
        /// `COG_CA_CERT` as given (resolved by `CACertificate` when planning).
        public var caCertificate: String?
        /// The `run.cog.version` label (`COG_LABEL_VERSION`); nil: the version of the cog runtime installed.
        public var cogVersionLabel: String?
        /// The project's git revision, recorded in OCI labels (none in tests' plans unless given).
        public var revision = GitRevision()

        public init(
            uvIndex: String = "https://pypi.org/simple", pythonInstallMirror: String? = nil,
            pythonDownloadsJSON: String? = nil, caCertificate: String? = nil
        ) {
            self.uvIndex = uvIndex
            self.pythonInstallMirror = pythonInstallMirror
            self.pythonDownloadsJSON = pythonDownloadsJSON
            self.caCertificate = caCertificate
        }

        /// Options from `COG_UV_INDEX`, `UV_PYTHON_INSTALL_MIRROR`, `UV_PYTHON_DOWNLOADS_JSON_URL` and
        /// `COG_CA_CERT` (the caller's environment).
        public static func from(environment: [String: String]) -> Options {
            var options = Options()
            if let index = environment["COG_UV_INDEX"], !index.isEmpty { options.uvIndex = index }
            if let mirror = environment["UV_PYTHON_INSTALL_MIRROR"], !mirror.isEmpty {
                options.pythonInstallMirror = mirror
            }
            if let list = environment["UV_PYTHON_DOWNLOADS_JSON_URL"], !list.isEmpty {
                options.pythonDownloadsJSON = list
            }
            options.caCertificate = environment["COG_CA_CERT"]
            return options
        }
    }

    /// Whether the base image brings Python and pip, or Python must be provisioned.
    enum BaseKind: Sendable, Equatable { case python, withoutPython }

    /// The plan for `config` in `projectDirectory` (whose `.dockerignore` is read).
    /// - Parameters:
    ///   - baseImageOverride: a base to use instead of the one cog chooses. Python is provisioned on it when its
    ///     repository is named for CUDA, or when cog would have chosen nvidia/cuda and it is not named `python`.
    ///   - cogBase: the cog-base image to build on (Cog's path with its own base image), found in the registry.
    /// - Throws: `ConfigError` when `.dockerignore` cannot be read, or `COG_CA_CERT` is not a certificate.
    public static func plan(
        config: CompletedConfig, projectDirectory: String, baseImageOverride: String? = nil,
        cogBase: CogBaseImage? = nil, options: Options = Options()
    ) throws(ConfigError) -> BuildPlan {
        let chosenBase = config.cudaBaseImage ?? "python:\(config.pythonVersion)-slim"
        let base = cogBase?.reference ?? baseImageOverride ?? chosenBase
        var steps: [BuildStep]
        if let cogBase {
            steps = try cogBaseSteps(config, cogBase: cogBase, options: options)
        } else {
            steps = try standardSteps(config, kind: baseKind(base, gpu: config.cudaBaseImage != nil), options: options)
        }
        // MARK: run commands
        steps += try runCommands(config.config.build)
        // MARK: the model: /src, its env, the project
        steps.append(.workdir("/src"))
        let stubs = runtimeEnvironment(config.config)
        if !stubs.isEmpty { steps.append(.env(stubs)) }
        steps.append(
            .copyProject(
                destination: "/src",
                excludes: try DockerIgnore.patterns(in: projectDirectory) + DockerIgnore.implicitExcludes
                    + DockerIgnore.weightSources(config.config.weights, projectDirectory: projectDirectory)))
        if config.configFile != "cog.yaml", !config.configFile.hasPrefix("/") {
            steps.append(
                .run(
                    RunStep(
                        command: "cp /src/\(config.configFile) /src/cog.yaml",
                        summary: "use \(config.configFile) as cog.yaml")))
        }
        var labels = [
            BuildPlan.Label.version: options.cogVersionLabel ?? config.runtime.version,
            BuildPlan.Label.config: config.labelJSON(),
            BuildPlan.Label.hasInit: "true", BuildPlan.Label.builder: CogVersion.builder,
        ].merging(options.revision.labels) { _, new in new }
        if let cogBase { labels[BuildPlan.Label.cogBaseImageName] = cogBase.reference }
        let image = PlannedImageConfig(
            entrypoint: ["/sbin/tini", "--"], cmd: ["python", "-m", "cog.server.http"], workingDir: "/src",
            exposedPorts: ["5000/tcp"],
            env: BuildPlan.netEnvironment(of: steps), labels: labels)
        return BuildPlan(
            baseImage: base, pythonVersion: config.pythonVersion, steps: steps, image: image, config: config,
            predictor: config.config.predict, trainer: config.config.train, cogBaseImage: cogBase?.reference,
            weightPaths: localWeightPaths(config.config.weights, projectDirectory: projectDirectory))
    }

    /// Cog's steps on python-slim or nvidia/cuda: the preamble, tini, the environment, system packages, Python
    /// where the base has none, requirements and the cog runtime, then ldconfig for Python's libraries.
    private static func standardSteps(_ config: CompletedConfig, kind: BaseKind, options: Options) throws(ConfigError)
        -> [BuildStep]
    {
        var steps: [BuildStep] = []
        // MARK: preamble and init process
        steps.append(.env(preamble))
        if let pem = try options.caCertificate.flatMap(CACertificate.resolve) { steps += CACertificate.steps(pem) }
        steps.append(
            .run(
                aptInstall(
                    ["tini"], recommends: false, then: "ln -sf /usr/bin/tini /sbin/tini", summary: "install tini")))
        if !config.environment.isEmpty { steps.append(.env(config.environment)) }
        // MARK: system packages
        steps += systemPackages(config.config.build.systemPackages)
        // MARK: Python, requirements, cog runtime
        if kind == .withoutPython { steps += provisionPython(config.pythonVersion, options: options) }
        steps += pythonPackages(config, installer: kind == .python ? .pip : .uv(breakSystemPackages: true))
        steps.append(
            .run(
                RunStep(
                    command:
                        #"find / -type f -name "*python*.so" -printf "%h\n" | sort -u > /etc/ld.so.conf.d/cog.conf && ldconfig"#,
                    summary: "ldconfig for Python libraries")))
        return steps
    }

    /// `build.system_packages` installed with apt (recommends included, as Cog does), if any.
    static func systemPackages(_ packages: [String]) -> [BuildStep] {
        guard !packages.isEmpty else { return [] }
        return [
            .run(
                aptInstall(
                    packages, recommends: true, then: nil,
                    summary: "apt-get install \(packages.joined(separator: " "))"))
        ]
    }

    /// The `weights` sources that are paths in the project (bare, `./`, `file://` or absolute inside it), relative
    /// to it; remote sources (`hf://`, `https://`) are not part of the image.
    static func localWeightPaths(_ weights: [WeightSource], projectDirectory: String) -> [String] {
        let project = projectDirectory.hasSuffix("/") ? projectDirectory : projectDirectory + "/"
        return weights.flatMap(\.sources).compactMap { source -> String? in
            var path = source.uri.hasPrefix("file://") ? String(source.uri.dropFirst(7)) : source.uri
            if path.contains("://") { return nil }
            if path.hasPrefix("/") {
                guard path.hasPrefix(project) else { return nil }
                path = String(path.dropFirst(project.count))
            }
            while path.hasPrefix("./") { path.removeFirst(2) }
            while path.hasSuffix("/") { path.removeLast() }
            return path.isEmpty || path.hasPrefix("../") ? nil : path
        }
    }

    /// Cog's preamble ENV (`standard_generator.go: preamble`).
    static let preamble = [
        EnvVar(name: "DEBIAN_FRONTEND", value: "noninteractive"),
        EnvVar(name: "PYTHONUNBUFFERED", value: "1"),
        EnvVar(
            name: "LD_LIBRARY_PATH",
            value: "$LD_LIBRARY_PATH:/usr/lib/x86_64-linux-gnu:/usr/local/nvidia/lib64:/usr/local/nvidia/bin"),
        EnvVar(name: "NVIDIA_DRIVER_CAPABILITIES", value: "all"),
    ]

    static func baseKind(_ reference: String, gpu: Bool) -> BaseKind {
        let repository = reference.split(separator: "@").first.map(String.init) ?? reference
        let lastComponent =
            repository.split(separator: "/").last.map { $0.split(separator: ":").first ?? $0 } ?? Substring(repository)
        if lastComponent == "python" { return .python }
        if lastComponent.contains("cuda") { return .withoutPython }
        return gpu ? .withoutPython : .python
    }

    /// `apt-get install` with the apt caches mounted; `recommends: false` adds `--no-install-recommends`.
    static func aptInstall(_ packages: [String], recommends: Bool, then extra: String?, summary: String) -> RunStep {
        var command =
            "apt-get update -qq && apt-get install -qqy \(recommends ? "" : "--no-install-recommends ")\(packages.joined(separator: " "))"
        if let extra { command += " && \(extra)" }
        return RunStep(
            command: command,
            mounts: [
                .cache(target: "/var/cache/apt", id: "apt-cache"),
                .cache(target: "/var/lib/apt/lists", id: "apt-lists"),
            ], summary: summary)
    }

    /// `build.run` items, then the deprecated `pre_install` commands, as Cog orders them.
    private static func runCommands(_ build: BuildSection) throws(ConfigError) -> [BuildStep] {
        var steps: [BuildStep] = []
        for item in build.run + build.preInstall.map({ RunItem(command: $0) }) {
            guard case .success((let mounts, let body)) = RunCommandPrefix.split(item.command) else {
                throw .file("cog.yaml", "run command \"\(item.command)\" has --mount flags cog cannot use")
            }
            let secrets = item.mounts.map { RunMount.secret(id: $0.id, target: $0.target, required: $0.required) }
            let label = body.count > 60 ? String(body.prefix(57)) + "..." : body
            steps.append(
                .run(
                    RunStep(
                        command: body, mounts: mounts + secrets, summary: label,
                        splitsPackages: body.contains("pip install"))))
        }
        return steps
    }

    /// `COG_PREDICT_TYPE_STUB`, `COG_TRAIN_TYPE_STUB` and `COG_MAX_CONCURRENCY`, as Cog sets them.
    static func runtimeEnvironment(_ config: CogConfig) -> [EnvVar] {
        var result: [EnvVar] = []
        if let predict = config.predict { result.append(EnvVar(name: "COG_PREDICT_TYPE_STUB", value: predict)) }
        if let train = config.train { result.append(EnvVar(name: "COG_TRAIN_TYPE_STUB", value: train)) }
        if let max = config.concurrencyMax { result.append(EnvVar(name: "COG_MAX_CONCURRENCY", value: String(max))) }
        return result
    }
}
