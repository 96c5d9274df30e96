import Foundation
import OCI

/// Registry credentials where Docker keeps them: `$DOCKER_CONFIG/config.json` (default `~/.docker`), with
/// `auths`, `credsStore` and `credHelpers`; `REGISTRY_AUTH_FILE` (podman's auth.json) is read first.
public struct DockerConfig: Sendable {
    struct File: Codable {
        var auths: [String: Entry]?
        var credsStore: String?
        var credHelpers: [String: String]?
        struct Entry: Codable {
            var auth: String?
            var username: String?
            var password: String?
            var identitytoken: String?
        }
    }

    /// Files consulted, in order.
    public let paths: [String]
    /// Where `cog login` writes.
    public let writePath: String
    let environment: [String: String]

    /// - Parameter environment: the caller's environment (`HOME`, `DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, and `PATH` for helpers).
    public init(environment: [String: String]) {
        self.environment = environment
        let home = environment["HOME"] ?? NSHomeDirectory()
        let dockerDir = environment["DOCKER_CONFIG"] ?? "\(home)/.docker"
        writePath = "\(dockerDir)/config.json"
        paths = [environment["REGISTRY_AUTH_FILE"], writePath].compactMap { $0 }
    }

    /// The keys a registry may be stored under (Docker Hub's historical key first).
    static func keys(for registry: String) -> [String] {
        if registry == "docker.io" || registry == "registry-1.docker.io" || registry == "index.docker.io" {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return [registry, "https://\(registry)", "http://\(registry)", "https://\(registry)/v1/"]
    }

    /// Credentials for `registry`, or nil for anonymous access.
    public func credentials(for registry: String) throws -> Credentials? {
        for path in paths where FileSystem.exists(path) {
            let file = try CanonicalJSON.decode(File.self, from: try FileSystem.read(path), what: path)
            let keys = Self.keys(for: registry)
            if let helper = keys.lazy.compactMap({ file.credHelpers?[$0] }).first {
                return try CredentialHelper(name: helper, environment: environment).get(serverURL: keys[0])
            }
            if let entry = keys.lazy.compactMap({ file.auths?[$0] }).first,
                let credentials = try decode(entry, path: path)
            {
                return credentials
            }
            if let store = file.credsStore {
                if let found = try CredentialHelper(name: store, environment: environment).get(serverURL: keys[0]) {
                    return found
                }
            }
        }
        return nil
    }

    private func decode(_ entry: File.Entry, path: String) throws -> Credentials? {
        if let token = entry.identitytoken, !token.isEmpty {
            return Credentials(username: entry.username ?? "<token>", secret: "", identityToken: token)
        }
        if let auth = entry.auth, !auth.isEmpty {
            guard let data = Data(base64Encoded: auth), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
            else {
                throw OCIError.invalidDocument(what: path, reason: "an \"auth\" entry is not base64 of user:password")
            }
            return Credentials(username: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
        }
        if let username = entry.username, let password = entry.password {
            return Credentials(username: username, secret: password)
        }
        return nil
    }

    /// Stores credentials as Docker would: through the credential helper when one is configured, else base64 in
    /// `auths` (the file is written through a temporary name with mode 0600).
    public func store(_ credentials: Credentials, for registry: String) throws {
        var file =
            FileSystem.exists(writePath)
            ? try CanonicalJSON.decode(File.self, from: try FileSystem.read(writePath), what: writePath) : File()
        let key = Self.keys(for: registry)[0]
        if let helper = file.credHelpers?[key] ?? file.credsStore {
            try CredentialHelper(name: helper, environment: environment).store(serverURL: key, credentials: credentials)
            return
        }
        var auths = file.auths ?? [:]
        auths[key] = File.Entry(auth: Data("\(credentials.username):\(credentials.secret)".utf8).base64EncodedString())
        file.auths = auths
        try FileSystem.makeDirectory((writePath as NSString).deletingLastPathComponent)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileSystem.writeAtomically(try encoder.encode(file), to: writePath, mode: 0o600)
    }
}
