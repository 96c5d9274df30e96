import Foundation
import OCI

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
        guard let data = readPrefix(path, limit: maximumSize + 1) else {
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
        return try load(data: data, configFile: configFile, projectDirectory: projectDirectory)
    }

    /// Checks, parses, validates and completes the bytes of a config file (at most `maximumSize` of them are
    /// looked at): too large or not UTF-8 is a located error, never replaced characters.
    static func load(data: Data, configFile: String = "cog.yaml", projectDirectory: String) throws(ConfigError)
        -> LoadedConfig
    {
        let name = (configFile as NSString).lastPathComponent
        if data.count > maximumSize {
            throw ConfigError(diagnostics: [
                located(
                    "the file is larger than \(maximumSize >> 20) MiB; a cog.yaml holds a few KiB of settings",
                    at: maximumSize, in: data, file: name, hint: "check that -f names the config file, not data")
            ])
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            let offset = firstInvalidUTF8(data)
            throw ConfigError(diagnostics: [
                located(
                    "the file is not valid UTF-8 (byte 0x\(String(format: "%02X", data[offset])))", at: offset,
                    in: data,
                    file: name, hint: "save cog.yaml as UTF-8")
            ])
        }
        return try load(text: text, configFile: configFile, projectDirectory: projectDirectory)
    }

    /// The largest cog.yaml read; real ones are a few KiB.
    static let maximumSize = 1 << 20

    /// Up to `limit` bytes of the file at `path`; nil when it cannot be read.
    private static func readPrefix(_ path: String, limit: Int) -> Data? {
        guard let file = try? FileStream.openForReading(path) else { return nil }
        var data = Data()
        struct Enough: Error {}
        do {
            try file.forEachChunk(size: 64 << 10) { chunk in
                data.append(contentsOf: chunk.prefix(limit - data.count))
                if data.count >= limit { throw Enough() }
            }
        } catch is Enough {
        } catch {
            return nil
        }
        return data
    }

    /// The offset of the first byte that is not part of valid UTF-8.
    private static func firstInvalidUTF8(_ data: Data) -> Int {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return max(0, data.count - 1)
            case .error: return offset
            }
        }
    }

    /// An error at byte `offset` of `data`, located by line and column, quoting the line.
    private static func located(_ message: String, at offset: Int, in data: Data, file: String, hint: String)
        -> ConfigDiagnostic
    {
        let before = data.prefix(offset)
        let line = before.count(where: { $0 == 0x0A }) + 1
        let lineStart = (before.lastIndex(of: 0x0A).map { $0 + 1 }) ?? data.startIndex
        let column = String(decoding: data[lineStart..<(data.startIndex + offset)], as: UTF8.self).count + 1
        let text = String(decoding: data[lineStart...].prefix { $0 != 0x0A }, as: UTF8.self)
        var log = DiagnosticLog(file: file, text: String(repeating: "\n", count: line - 1) + text)
        log.error(message, at: SourceMark(line: line, column: column), hint: hint)
        return log.diagnostics[0]
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
