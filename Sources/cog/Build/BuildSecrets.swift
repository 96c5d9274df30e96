import ArgumentParser
import Foundation

/// `--secret id=NAME,src=PATH` or `--secret id=NAME,env=VAR` (also `type=env`), as BuildKit takes them.
struct BuildSecret: Sendable, Equatable {
    enum Source: Sendable, Equatable { case file(String), environment(String) }
    let id: String
    let source: Source

    init(parsing text: String) throws {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw ValidationError("--secret \"\(text)\": expected key=value pairs such as id=pip,src=~/.pip.conf") }
            fields[pair[0]] = pair[1]
        }
        guard let id = fields["id"], !id.isEmpty else { throw ValidationError("--secret \"\(text)\" needs id=NAME") }
        self.id = id
        if let path = fields["src"] ?? fields["source"] {
            source = .file((path as NSString).expandingTildeInPath)
        } else if let variable = fields["env"] {
            source = .environment(variable)
        } else if fields["type"] == "env" {
            source = .environment(id)
        } else {
            throw ValidationError("--secret \"\(text)\" needs src=PATH or env=VARIABLE")
        }
    }

    /// Writes the secret's value to a private file under `directory` (or returns its own path).
    func materialize(in directory: String) throws -> String {
        switch source {
        case let .file(path):
            guard FileManager.default.isReadableFile(atPath: path) else { throw BuildError.secret(id: id, problem: "cannot read \(path)") }
            return path
        case let .environment(name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw BuildError.secret(id: id, problem: "the environment variable \(name) is not set")
            }
            let path = "\(directory)/secret-\(id)"
            _ = FileManager.default.createFile(atPath: path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o400])
            return path
        }
    }
}
