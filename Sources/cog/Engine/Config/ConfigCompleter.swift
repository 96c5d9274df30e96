import Foundation

/// Completes a decoded cog.yaml the way Cog's `Config.Complete` does: reads the requirements, chooses Python,
/// resolves CUDA and cuDNN for GPU builds, rewrites torch/torchvision/tensorflow pins for the right wheel index,
/// and picks the cog runtime. Problems are logged with their positions, in cog.yaml or the requirements file.
struct ConfigCompleter {
    var yamlLog: DiagnosticLog
    var requirementsLog: DiagnosticLog?
    let decoded: DecodedConfig
    let resolver: CUDAResolver
    let projectDirectory: String
    /// The requirement lines and whether they came from the requirements file (else from cog.yaml).
    var lines: [RequirementLine] = []
    var linesFromFile = false
    var python = ConfigRules.defaultPython
    var cuda: String?
    var cudnn: String?
    var cudaBaseImage: String?
    /// Package archives named by path in the requirements, by the line that names them.
    var artifacts: [String: LocalArtifact] = [:]

    var build: BuildSection { decoded.config.build }

    /// Completes `decoded`; nil when an error was logged that leaves nothing to complete.
    mutating func complete(configFile: String) -> CompletedConfig? {
        // MARK: requirements
        readRequirements()
        checkRequirementLines()
        let torch = framework("torch")
        let tensorflow = framework("tensorflow")
        // MARK: Python
        choosePython(torch: torch, tensorflow: tensorflow)
        // MARK: CUDA and cuDNN
        let invalidCUDA =
            (decoded.marks["build.cuda"] != nil && build.cuda == nil)
            || (decoded.marks["build.cudnn"] != nil && build.cudnn == nil)
        if build.gpu, !invalidCUDA {
            resolveCUDA(torch: torch, tensorflow: tensorflow)
        } else if let mark = decoded.marks["build.cuda"] ?? decoded.marks["build.cudnn"],
            build.cuda != nil || build.cudnn != nil
        {
            yamlLog.warning(
                "cuda and cudnn are ignored because gpu is not true", at: mark,
                hint: "add gpu: true to the build section to build on nvidia/cuda")
        }
        // MARK: wheels and runtime
        let requirements = rewriteRequirements()
        guard let runtime = chooseRuntime() else { return nil }
        checkConcurrency()
        for key in ["predict", "train"] {
            let reference = key == "predict" ? decoded.config.predict : decoded.config.train
            guard let file = reference?.components(separatedBy: ".py:").first.map({ $0 + ".py" }),
                !FileManager.default.fileExists(atPath: (projectDirectory as NSString).appendingPathComponent(file))
            else { continue }
            yamlLog.warning(
                "\(key) names \(file), which is not in the project", at: decoded.marks[key],
                hint: "create it, or fix the path (relative to the folder holding cog.yaml)")
        }
        if decoded.config.predict == nil {
            yamlLog.warning(
                "cog.yaml names no predictor, so the image will not serve predictions", at: nil,
                hint: "add predict: \"predict.py:Predictor\"")
        }
        var config = decoded.config
        config.build.pythonVersion = python
        if build.gpu { (config.build.cuda, config.build.cudnn) = (cuda, cudnn) }
        let environment = config.environment.compactMap { try? ConfigRules.checkEnvironmentEntry($0).get() }.sorted {
            $0.name < $1.name
        }
        return CompletedConfig(
            config: config, pythonVersion: python, cudaBaseImage: cudaBaseImage, requirements: requirements,
            runtime: runtime,
            environment: environment, configFile: configFile,
            localArtifacts: lines.compactMap { artifacts[$0.text] }.reduce(into: []) {
                if !$0.contains($1) { $0.append($1) }
            }, torchVersion: torch?.version)
    }

    // MARK: - Requirements

    private mutating func readRequirements() {
        if let path = build.pythonRequirements {
            let full = path.hasPrefix("/") ? path : (projectDirectory as NSString).appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: full) else {
                let exists = FileManager.default.fileExists(atPath: full)
                yamlLog.error(
                    exists
                        ? "requirements file \"\(path)\" cannot be read"
                        : "requirements file \"\(path)\" does not exist",
                    at: decoded.marks["build.python_requirements"],
                    hint: exists
                        ? "check its permissions" : "create it, or fix the path; it is relative to \(projectDirectory)")
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            requirementsLog = DiagnosticLog(file: path, text: text)
            lines = Requirements.read(text)
            linesFromFile = true
        } else {
            lines = build.pythonPackages.enumerated().map { index, text in
                RequirementLine(
                    text: text.trimmingCharacters(in: .whitespaces),
                    mark: decoded.marks["build.python_packages.\(index)"])
            }.filter { !$0.text.isEmpty }
        }
        lines = build.requirementOptions.map { RequirementLine(text: $0, mark: decoded.marks["build"]) } + lines
    }

    private mutating func checkRequirementLines() {
        for line in lines {
            if let violation = Requirements.checkGitRequirement(line.text) { report(.error, violation, line) }
            if let url = Requirements.gitURL(line.text) {
                if !build.gpu, !build.systemPackages.contains("git") {
                    report(
                        .error,
                        RuleViolation(
                            message: "\"\(url)\" is installed with git, but system_packages does not list git",
                            hint: "add \"git\" to build.system_packages"), line)
                }
                if url.hasPrefix("git+git://") {
                    report(
                        .warning,
                        RuleViolation(
                            message: "\"\(url)\" uses the git:// protocol, which GitHub no longer serves",
                            hint: "use git+https:// instead"), line)
                }
            } else if let path = LocalArtifact.path(in: line.text) {
                switch LocalArtifact.resolve(path, projectDirectory: projectDirectory) {
                case .success(let artifact): artifacts[line.text] = artifact
                case .failure(let violation): report(.error, violation, line)
                }
            } else if Requirements.isLocalFile(line.text) {
                report(
                    .error,
                    RuleViolation(
                        message:
                            "\"\(line.text)\" names a file on this machine in a form cog cannot copy into the image",
                        hint:
                            "write just the path of a .whl, .zip, .tar.gz, .tgz, .tar.bz2 or .tar.xz inside the project (no file:, name @, options or markers), or install it from an index"
                    ), line)
            } else if let option = Requirements.nestedFileOption(line.text) {
                report(
                    .error,
                    RuleViolation(
                        message:
                            "\"\(line.text)\" reads another file with \(option), which is not copied into the image",
                        hint: "put that file's lines in this one"), line)
            } else if let url = indexURL(line.text),
                !(url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("file:"))
            {
                report(
                    .warning,
                    RuleViolation(
                        message: "\"\(url)\" is not a package index URL; pip will not find packages there", hint: nil),
                    line)
            }
        }
    }

    /// The URL of an `--extra-index-url` / `--index-url` / `-i` option line.
    private func indexURL(_ line: String) -> String? {
        let parts = line.split(whereSeparator: { $0.isWhitespace || $0 == "=" }).map(String.init)
        guard parts.count == 2, ["--extra-index-url", "--index-url", "-i"].contains(parts[0]) else { return nil }
        return parts[1]
    }

    /// Logs `violation` where `line` is: in the requirements file or at its cog.yaml item.
    mutating func report(_ severity: ConfigDiagnostic.Severity, _ violation: RuleViolation, _ line: RequirementLine) {
        let inFile = linesFromFile && line.mark != decoded.marks["build"]
        var log = inFile ? (requirementsLog ?? yamlLog) : yamlLog
        if severity == .error {
            log.error(violation.message, at: line.mark, hint: violation.hint)
        } else {
            log.warning(violation.message, at: line.mark, hint: violation.hint)
        }
        if inFile { requirementsLog = log } else { yamlLog = log }
    }

    /// A framework found in the requirements: its line, the first version it names, and whether it is exact.
    struct Framework {
        var line: RequirementLine
        var version: String?
        var exact: Bool
    }

    /// The first requirement for package `name` (as Cog reads it: the first version any specifier names).
    func framework(_ name: String) -> Framework? {
        guard let line = lines.first(where: { Requirements.packageName($0.text).map(Requirements.normalized) == name })
        else { return nil }
        return Framework(
            line: line, version: Requirements.firstVersion(line.text), exact: Requirements.pinned(line.text) != nil)
    }

    // MARK: - Python, runtime, concurrency

    private mutating func choosePython(torch: Framework?, tensorflow: Framework?) {
        if let declared = build.pythonVersion {
            python = declared
            return
        }
        var candidates = ConfigRules.supportedPythons
        if let version = torch?.version, let allowed = resolver.pythons(forTorch: version) {
            candidates = candidates.filter(allowed.contains)
        }
        if let version = tensorflow?.version, let row = resolver.tensorflow(version) {
            candidates = candidates.filter(row.pythons.contains)
        }
        if candidates.contains(ConfigRules.defaultPython) {
            python = ConfigRules.defaultPython
        } else if let newest = candidates.last {
            python = newest
        } else {
            yamlLog.warning(
                "no Python version supports both pinned torch and tensorflow; using Python \(ConfigRules.defaultPython)",
                at: decoded.marks["build"], hint: "set build.python_version")
        }
    }

    private mutating func chooseRuntime() -> CogRuntime? {
        let version = ReleaseVersion(python) ?? ReleaseVersion(major: 3, minor: 12)
        switch CogRuntime.select(sdkVersion: build.sdkVersion, python: version) {
        case .success(let runtime): return runtime
        case .failure(let violation):
            yamlLog.error(
                violation.message, at: decoded.marks["build.sdk_version"] ?? decoded.marks["build.python_version"],
                hint: violation.hint)
            return nil
        }
    }

    private mutating func checkConcurrency() {
        guard let max = decoded.config.concurrencyMax, max > 1, let version = ReleaseVersion(python),
            version < ReleaseVersion(major: 3, minor: 11)
        else { return }
        yamlLog.error(
            "concurrency.max \(max) needs Python 3.11 or newer, but python_version is \(python)",
            at: decoded.marks["concurrency.max"],
            hint: "set python_version: \"3.11\" or newer, or concurrency.max: 1")
    }
}
