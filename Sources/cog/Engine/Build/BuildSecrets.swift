import Foundation
import OCI

/// A `--secret` value in Cog's forms (`pkg/docker/build_secrets.go`, which follows buildx): comma-separated
/// `key=value` fields, keys case-insensitive: `id=X`, `src=PATH` (or `source=`; a relative path is relative to
/// the project directory), `env=VARIABLE`, `type=file|env` (`type=env,src=VAR` names a variable).
/// With neither a file nor a variable, BuildKit's store takes the variable named like the id when it is set,
/// else the file named like the id.
public struct BuildSecret: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case file(String)
        /// A variable of the caller's environment, resolved by the caller (`resolved(in:)`) before the build; a
        /// variable that is not set leaves the secret unavailable, as BuildKit finds no such secret then.
        case environment(String)
        /// The secret's bytes.
        case value([UInt8])
    }

    public let id: String
    public let source: Source

    public init(id: String, source: Source) {
        self.id = id
        self.source = source
    }

    /// Parses the flag's text; a relative `src` is taken relative to `directory` (the project, as Cog does).
    /// - Throws: `BuildError.secretSyntax` naming what is wrong.
    public init(parsing text: String, relativeTo directory: String = FileManager.default.currentDirectoryPath) throws {
        var type: String?
        var id: String?
        var path: String?
        var variable: String?
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let equals = field.firstIndex(of: "=") else {
                throw BuildError.secretSyntax(
                    text, problem: "field \"\(field)\" must be a key=value pair, such as id=pip,src=~/.pip.conf")
            }
            let value = String(field[field.index(after: equals)...])
            switch field[..<equals].lowercased() {
            case "type":
                guard value == "file" || value == "env" else {
                    throw BuildError.secretSyntax(text, problem: "unsupported secret type \"\(value)\" (file or env)")
                }
                type = value
            case "id": id = value
            case "src", "source": path = value
            case "env": variable = value
            case let key:
                throw BuildError.secretSyntax(
                    text, problem: "unexpected key \"\(key)\" (the keys are id, src, source, env and type)")
            }
        }
        guard let id, !id.isEmpty else { throw BuildError.secretSyntax(text, problem: "it needs id=NAME") }
        self.id = id
        if type == "env", variable == nil {
            variable = path ?? id
            path = nil
        }
        if let variable {
            source = .environment(variable)
        } else if let path {
            source = .file(Self.absolute(path, in: directory))
        } else {
            source = .file(Self.absolute(id, in: directory))
            defaultsToVariable = true
        }
    }

    /// Set for `--secret id=X` alone: the variable `X` is taken when set, else the file `X`.
    private var defaultsToVariable = false

    private static func absolute(_ path: String, in directory: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return expanded.hasPrefix("/") ? expanded : ((directory as NSString).appendingPathComponent(expanded))
    }

    /// The secret with an environment source replaced by the variable's value from `environment` (left as is when
    /// the variable is not set: the secret is then unavailable to steps).
    /// - Throws: `BuildError.secretUnreadable` for a file that cannot be read, as BuildKit checks files up front.
    public func resolved(in environment: [String: String]) throws -> BuildSecret {
        switch source {
        case .environment(let name):
            guard let value = environment[name] else { return self }
            return BuildSecret(id: id, source: .value(Array(value.utf8)))
        case .file(let path):
            if defaultsToVariable, let value = environment[id] {
                return BuildSecret(id: id, source: .value(Array(value.utf8)))
            }
            guard access(path, R_OK) == 0 else {
                throw BuildError.secretUnreadable(id: id, cause: SystemCallError("read", path: path))
            }
            return BuildSecret(id: id, source: .file(path))
        case .value:
            return self
        }
    }

    /// The file to mount: its own path, or a private file under `directory` holding its value; nil when the
    /// secret is unavailable (its variable is not set), with the reason.
    func materialize(in directory: String) throws -> Result<String, BuildError.MissingSecret> {
        switch source {
        case .file(let path):
            guard access(path, R_OK) == 0 else {
                throw BuildError.secretUnreadable(id: id, cause: SystemCallError("read", path: path))
            }
            return .success(path)
        case .environment(let name):
            return .failure(.variableUnset(name))
        case .value(let bytes):
            let path = "\(directory)/secret-\(id)"
            try FileSystem.writeAtomically(Data(bytes), to: path, mode: 0o400)
            return .success(path)
        }
    }
}
