import Foundation

/// Turns a model directory's cog.yaml into a completed config: the one road from file to `CompletedConfig`.
public enum ConfigLoader {
    /// Reads, parses, validates and completes `configFile` (relative to `projectDirectory`, or absolute).
    /// - Returns: the completed config and the warnings found.
    /// - Throws: `ConfigError` holding every error found, each with its position, quoted line and hint.
    public static func load(projectDirectory: String, configFile: String = "cog.yaml") throws(ConfigError)
        -> LoadedConfig
    {
        let path =
            configFile.hasPrefix("/") ? configFile : (projectDirectory as NSString).appendingPathComponent(configFile)
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw .file(
                    configFile,
                    isDirectory.boolValue ? "\(path) is a directory, not a config file" : "\(path) cannot be read",
                    hint: "check the path and its permissions")
            }
            throw .file(
                configFile, "\(configFile) not found in \(projectDirectory)",
                hint: "run cog init to create one, or pass -f with the path of your config file")
        }
        return try load(
            text: String(decoding: data, as: UTF8.self), configFile: configFile, projectDirectory: projectDirectory)
    }

    /// Parses, validates and completes cog.yaml text; `projectDirectory` is where the requirements file is read.
    static func load(text: String, configFile: String = "cog.yaml", projectDirectory: String) throws(ConfigError)
        -> LoadedConfig
    {
        var log = DiagnosticLog(file: (configFile as NSString).lastPathComponent, text: text)
        // MARK: parse
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(text)
        } catch {
            report(error, in: &log)
            throw ConfigError(diagnostics: log.errors)
        }
        // MARK: decode and check each value
        let decoded = ConfigDecoder.decode(root, log: &log)
        // MARK: complete (requirements, Python, CUDA, wheels, runtime)
        let tables = try CompatibilityTables.bundled()
        var completer = ConfigCompleter(
            yamlLog: log, decoded: decoded, resolver: CUDAResolver(tables: tables),
            projectDirectory: (projectDirectory as NSString).standardizingPath)
        let completed = completer.complete(configFile: configFile)
        let diagnostics = completer.yamlLog.inFileOrder + (completer.requirementsLog?.inFileOrder ?? [])
        let errors = diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let completed else {
            throw ConfigError(
                diagnostics: errors.isEmpty
                    ? [ConfigDiagnostic(severity: .error, file: log.file, message: "the config could not be completed")]
                    : errors)
        }
        return LoadedConfig(
            config: completed, warnings: diagnostics.filter { $0.severity == .warning },
            projectDirectory: projectDirectory)
    }

    /// The first directory from `start` upwards that holds `configFile`, as Cog searches (at most 100 levels).
    public static func findProjectDirectory(from start: String, configFile: String = "cog.yaml") -> String? {
        var directory = (start as NSString).standardizingPath
        for _ in 0..<100 {
            if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(configFile)) {
                return directory
            }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory || parent.isEmpty { return nil }
            directory = parent
        }
        return nil
    }

    /// A libyaml syntax error as a diagnostic, with a hint for the mistakes people make most.
    private static func report(_ error: YAMLSyntaxError, in log: inout DiagnosticLog) {
        var message = "invalid YAML: \(error.problem)"
        if let context = error.context, let mark = error.contextMark, mark.line != error.mark.line {
            message += " (\(context) that starts on line \(mark.line))"
        }
        let line = log.line(error.mark.line) ?? ""
        var hint: String?
        if line.contains("\t") {
            hint = "indent with spaces: YAML does not allow tabs"
        } else if error.problem.contains("mapping values are not allowed") {
            hint = "quote values that contain \": \", e.g. key: \"a: b\""
        } else if error.problem.contains("cannot start any token") {
            hint = "quote values that start with a special character such as ` @ % or |"
        } else if error.problem.contains("<document start>") {
            hint =
                "cog.yaml must start with YAML keys such as build:; remove any text before them (a \"\"\" docstring is not YAML)"
        } else if error.problem.contains("did not find expected") {
            hint = "check the indentation of this line against the lines above it"
        }
        log.error(message, at: error.mark, hint: hint)
    }
}
