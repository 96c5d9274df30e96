import Foundation
import OCI

/// `cog doctor [--fix]` as Cog ≥ 0.20 has it (`pkg/doctor`): each check looks at the project as it is then (so a
/// fix shows in later checks), reports its findings, and with `fix` applies its fix when it has one.
public struct Doctor: Sendable {
    public let projectDirectory: String
    /// The config file as given (`cog.yaml`, or `-f`).
    public let configFile: String

    public init(projectDirectory: String, configFile: String) {
        self.projectDirectory = projectDirectory
        self.configFile = configFile
    }

    public func run(fix: Bool) -> [DoctorResult] {
        DoctorCheck.allCases.map { check in
            let findings = self.findings(of: check)
            guard fix, check.fixable, !findings.isEmpty else {
                return DoctorResult(check: check, findings: findings, fixed: false, fixError: nil)
            }
            do {
                try apply(check)
                return DoctorResult(check: check, findings: findings, fixed: true, fixError: nil)
            } catch {
                return DoctorResult(check: check, findings: findings, fixed: false, fixError: "\(error)")
            }
        }
    }

    func findings(of check: DoctorCheck) -> [DoctorFinding] {
        switch check {
        case .configParse: parseFindings()
        case .configSchema: schemaFindings()
        case .predictToRun: predictToRunFindings()
        case .deprecatedFields: deprecatedFieldFindings()
        case .predictReference: predictReferenceFindings()
        case .deprecatedImports: deprecatedImportFindings()
        case .pydanticBaseModel: pydanticFindings()
        case .typeAnnotations: annotationFindings()
        }
    }

    private func apply(_ check: DoctorCheck) throws {
        switch check {
        case .predictToRun: try migratePredictToRun()
        case .deprecatedImports: try removeDeprecatedImports()
        case .pydanticBaseModel: try replacePydanticWorkarounds()
        default: break
        }
    }

    // MARK: the project as it is now

    var configPath: String {
        configFile.hasPrefix("/") ? configFile : "\(projectDirectory)/\(configFile)"
    }

    var configText: String? { try? String(contentsOfFile: configPath, encoding: .utf8) }

    /// The loaded config, or why it does not load.
    var loaded: Result<LoadedConfig, ConfigError> {
        Result { () throws(ConfigError) in
            try ConfigLoader.load(projectDirectory: projectDirectory, configFile: configFile)
        }
    }

    /// A project file's text, by its path relative to the project.
    func source(_ relative: String) -> PythonSource? {
        (try? String(contentsOfFile: "\(projectDirectory)/\(relative)", encoding: .utf8)).map(PythonSource.init)
    }

    func write(_ text: String, to relative: String) throws {
        let path = "\(projectDirectory)/\(relative)"
        var st = stat()
        let mode = stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        try FileSystem.writeAtomically(Data(text.utf8), to: path, mode: mode)
    }

    // MARK: config checks

    private func parseFindings() -> [DoctorFinding] {
        guard let text = configText else {
            return [
                DoctorFinding(
                    .error, "\(configFile) not found", remediation: #"Run "cog init" to create a cog.yaml"#,
                    file: configFile)
            ]
        }
        guard !Self.isYAML(text), case .failure(let error) = loaded else { return [] }
        return [
            DoctorFinding(
                .error, "\(configFile) has invalid YAML: \(error)", remediation: "Fix the YAML syntax in \(configFile)",
                file: configFile)
        ]
    }

    static func isYAML(_ text: String) -> Bool {
        do {
            _ = try YAMLParser.parse(text)
            return true
        } catch {
            return false
        }
    }

    private func schemaFindings() -> [DoctorFinding] {
        guard let text = configText, Self.isYAML(text), case .failure(let error) = loaded else {
            return []
        }
        return [
            DoctorFinding(
                .error, "\(configFile) validation failed: \(error)",
                remediation: "Fix the configuration errors in \(configFile)", file: configFile)
        ]
    }

    /// Cog's deprecated fields (`pkg/config/validate.go: checkDeprecatedFields`; `predict` has its own check).
    private func deprecatedFieldFindings() -> [DoctorFinding] {
        guard case .success(let loaded) = loaded else { return [] }
        let config = loaded.config.config
        let deprecated: [(field: String, replacement: String, message: String, present: Bool)] = [
            (
                "concurrency.max", "@cog.concurrent(max=...)",
                "configure prediction concurrency with @cog.concurrent on your async run() method instead",
                config.concurrencyMax != nil
            ),
            (
                "build.python_packages", "build.python_requirements", "use a requirements.txt file instead",
                !config.build.pythonPackages.isEmpty
            ),
            ("build.pre_install", "build.run", "use build.run commands instead", !config.build.preInstall.isEmpty),
        ]
        return deprecated.filter(\.present).map { field in
            DoctorFinding(
                .warning, "\"\(field.field)\" is deprecated: \(field.message)",
                remediation: "Use \"\(field.replacement)\" instead", file: configFile)
        }
    }

    /// `file.py:Name` of `run:`/`predict:` and of `train:`, as loaded.
    var references: (predict: String?, train: String?) {
        guard case .success(let config) = loaded else { return (nil, nil) }
        return (config.config.config.predict, config.config.config.train)
    }

    private func predictReferenceFindings() -> [DoctorFinding] {
        guard let reference = references.predict else { return [] }
        let parts = reference.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts[0].hasSuffix(".py"), !parts[1].isEmpty else {
            return [
                DoctorFinding(
                    .error, "predict reference \"\(reference)\" must be in the form 'file.py:ClassName'",
                    remediation: #"Set predict to "predict.py:Predictor" in \#(configFile)"#, file: configFile)
            ]
        }
        let (file, name) = (parts[0], parts[1])
        guard let source = source(file) else {
            return [
                DoctorFinding(
                    .error, "\(file) not found",
                    remediation: "Create \(file) or update the predict field in \(configFile)",
                    file: file)
            ]
        }
        let functions = source.topLevel.compactMap { PythonSource.declaredName($0.text, keyword: "def") }
        guard source.classes(named: name).isEmpty, !functions.contains(name) else { return [] }
        var message = "class \"\(name)\" not found in \(file)"
        let found = source.classes().compactMap { PythonSource.declaredName($0.text, keyword: "class") }
        if !found.isEmpty { message += "; found: \(found.joined(separator: ", "))" }
        return [
            DoctorFinding(
                .error, message, remediation: "Add class \(name) to \(file) or update the predict field in cog.yaml",
                file: file)
        ]
    }
}
