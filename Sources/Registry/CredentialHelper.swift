import Foundation

/// The Docker credential helper protocol: `docker-credential-NAME get|store` with JSON on stdin/stdout.
struct CredentialHelper {
    let name: String
    let environment: [String: String]

    private struct Reply: Decodable {
        let username: String
        let secret: String
        enum CodingKeys: String, CodingKey {
            case username = "Username"
            case secret = "Secret"
        }
    }

    /// Asks the helper; nil when it has no credentials for the server.
    func get(serverURL: String) throws -> Credentials? {
        let (status, output, error) = try run(arguments: ["get"], input: serverURL)
        if status != 0 {
            if output.contains("credentials not found") || error.contains("credentials not found") { return nil }
            throw RegistryError.credentialHelper(
                name: name, message: (error.isEmpty ? output : error).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(output.utf8)) else {
            throw RegistryError.credentialHelper(name: name, message: "its reply is not {\"Username\":…,\"Secret\":…}")
        }
        if reply.username == "<token>" {
            return Credentials(username: reply.username, secret: "", identityToken: reply.secret)
        }
        return Credentials(username: reply.username, secret: reply.secret)
    }

    func store(serverURL: String, credentials: Credentials) throws {
        let payload: [String: String] = [
            "ServerURL": serverURL, "Username": credentials.username, "Secret": credentials.secret,
        ]
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        let (status, output, error) = try run(arguments: ["store"], input: json)
        guard status == 0 else {
            throw RegistryError.credentialHelper(
                name: name, message: (error.isEmpty ? output : error).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    private func run(arguments: [String], input: String) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker-credential-\(name)"] + arguments
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw RegistryError.credentialHelper(
                name: name,
                message: "cannot start it: \(error.localizedDescription) (is docker-credential-\(name) on PATH?)")
        }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw RegistryError.credentialHelper(name: name, message: "docker-credential-\(name) is not on PATH")
        }
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
