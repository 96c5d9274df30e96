import Foundation
import OCI

/// `--secret id=NAME,src=PATH` or `--secret id=NAME,env=VAR` (also `type=env`), as BuildKit takes them.
public struct BuildSecret: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case file(String)
        /// A variable of the caller's environment, resolved by the caller (`resolved(in:)`) before the build.
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

    /// Parses the flag's text.
    /// - Throws: `BuildError.secretSyntax` naming what is wrong.
    public init(parsing text: String) throws {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else {
                throw BuildError.secretSyntax(text, problem: "expected key=value pairs such as id=pip,src=~/.pip.conf")
            }
            fields[pair[0]] = pair[1]
        }
        guard let id = fields["id"], !id.isEmpty else {
            throw BuildError.secretSyntax(text, problem: "it needs id=NAME")
        }
        self.id = id
        if let path = fields["src"] ?? fields["source"] {
            source = .file((path as NSString).expandingTildeInPath)
        } else if let variable = fields["env"] {
            source = .environment(variable)
        } else if fields["type"] == "env" {
            source = .environment(id)
        } else {
            throw BuildError.secretSyntax(text, problem: "it needs src=PATH or env=VARIABLE")
        }
    }

    /// The secret with an environment source replaced by the variable's value from `environment`.
    /// - Throws: `BuildError.secretVariableUnset` when the variable is not set.
    public func resolved(in environment: [String: String]) throws -> BuildSecret {
        guard case .environment(let name) = source else { return self }
        guard let value = environment[name] else { throw BuildError.secretVariableUnset(id: id, variable: name) }
        return BuildSecret(id: id, source: .value(Array(value.utf8)))
    }

    /// The file to mount: its own path, or a private file under `directory` holding its value.
    func materialize(in directory: String) throws -> String {
        switch source {
        case .file(let path):
            guard access(path, R_OK) == 0 else {
                throw BuildError.secretUnreadable(id: id, cause: SystemCallError("read", path: path))
            }
            return path
        case .environment(let name):
            throw BuildError.secretVariableUnset(id: id, variable: name)
        case .value(let bytes):
            let path = "\(directory)/secret-\(id)"
            try FileSystem.writeAtomically(Data(bytes), to: path, mode: 0o400)
            return path
        }
    }
}
