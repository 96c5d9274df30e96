import ArgumentParser
import CogEngine
import Foundation
import Registry

/// `cog login`: stores registry credentials where Docker keeps them. For r8.im, Cog's token flow.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Log in to a registry (r8.im by default).",
        discussion:
            "For r8.im: opens the token page's address, reads the CLI token and verifies it with Replicate. For other registries: a username and a password (or token), checked against the registry's /v2/ endpoint."
    )

    @Argument(help: "Registry host.") var registry = Environment.current.registryHost
    @Flag(name: .customLong("token-stdin"), help: "Read the token (or password) from standard input.") var tokenStdin =
        false
    @Option(name: .shortAndLong, help: "Username (registries other than r8.im).") var username: String?

    func run() async throws {
        try await runReportingErrors {
            let http = Environment.current.http
            let credentials =
                registry == "r8.im" || registry.hasSuffix(".replicate.com")
                ? try await replicateLogin(http: http) : try await basicLogin(http: http)
            try Environment.current.dockerConfig.store(credentials, for: registry)
            FileHandle.standardError.write(Data("logged in to \(registry) as \(credentials.username)\n".utf8))
        }
    }

    private func readSecret(prompt: String) throws -> String {
        if !tokenStdin { FileHandle.standardError.write(Data(prompt.utf8)) }
        guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
            throw LoginError.noToken
        }
        return line
    }

    /// reference §5.3: display-token-url, then verify-token; the token is stored as the password.
    private func replicateLogin(http: CurlTransport) async throws -> Credentials {
        let scheme = Environment.current.registry.scheme(for: registry)
        if !tokenStdin {
            let response = try await http.send(
                HTTPRequest(method: "GET", url: "\(scheme)://\(registry)/cog/v1/display-token-url"))
            guard response.isSuccess,
                let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                let url = object["url"] as? String
            else {
                throw LoginError.notReplicate(registry: registry)
            }
            FileHandle.standardError.write(Data("Get your CLI token at \(url)\n".utf8))
        }
        let token = try readSecret(prompt: "CLI token: ")
        guard !token.hasPrefix("r8_") else {
            throw LoginError.apiToken
        }
        let body = "token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)
        let response = try await http.send(
            HTTPRequest(
                method: "POST", url: "\(scheme)://\(registry)/cog/v1/verify-token",
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: .data(Data(body.utf8))))
        guard response.isSuccess, let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let user = object["username"] as? String
        else {
            throw LoginError.tokenRejected(registry: registry, status: response.status)
        }
        return Credentials(username: user, secret: token)
    }

    private func basicLogin(http: CurlTransport) async throws -> Credentials {
        guard let username = username ?? (tokenStdin ? nil : readLineWithPrompt("Username: ")) else {
            throw LoginError.noUsername
        }
        let credentials = Credentials(username: username, secret: try readSecret(prompt: "Password: "))
        let client = RegistryClient(
            registry: registry, credentials: credentials, settings: Environment.current.registry, http: http)
        try await client.checkLogin()
        return credentials
    }

    private func readLineWithPrompt(_ prompt: String) -> String? {
        FileHandle.standardError.write(Data(prompt.utf8))
        return readLine(strippingNewline: true)
    }
}

/// Why `cog login` failed.
enum LoginError: Error, CustomStringConvertible {
    case noToken
    case notReplicate(registry: String)
    case apiToken
    case tokenRejected(registry: String, status: Int)
    case noUsername

    var description: String {
        switch self {
        case .noToken: return "no token given on standard input"
        case .notReplicate(let registry):
            return
                "\(registry) is not the Replicate registry (no token page); use `cog login \(registry) -u USER` instead"
        case .apiToken: return "that is an API token (r8_…); cog login needs the CLI token from the page above"
        case .tokenRejected(let registry, let status):
            return "\(registry) did not accept the token (HTTP \(status)); copy it again from the token page"
        case .noUsername: return "give a username with -u USER"
        }
    }
}
