import Foundation

/// `COG_CA_CERT`, read as Cog reads it: a PEM file, a directory of `.crt`/`.pem` files, inline PEM, or base64 PEM.
/// The certificates are installed in the image (`/usr/local/share/ca-certificates/cog-ca-cert.crt` and the system
/// bundle) for the build's later steps and for the model at run time.
enum CACertificate {
    static let hint = "set COG_CA_CERT to a PEM file, a directory of .crt/.pem files, PEM text, or base64-encoded PEM"

    /// The PEM text `value` stands for; nil when it is empty.
    static func resolve(_ value: String) throws(ConfigError) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        let pem: String
        var isDirectory: ObjCBool = false
        if trimmed.hasPrefix("-----BEGIN") {
            pem = trimmed
        } else if FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory) {
            pem = isDirectory.boolValue ? try directory(trimmed) : try file(trimmed)
        } else if let data = Data(base64Encoded: trimmed, options: .ignoreUnknownCharacters),
            let decoded = String(data: data, encoding: .utf8), decoded.contains("-----BEGIN")
        {
            pem = decoded
        } else if trimmed.hasPrefix("/") || trimmed.hasPrefix(".") {
            throw .file("COG_CA_CERT", "\(trimmed) does not exist", hint: hint)
        } else {
            throw .file("COG_CA_CERT", "the value is neither a path, nor PEM, nor base64-encoded PEM", hint: hint)
        }
        guard pem.contains("-----BEGIN CERTIFICATE-----"), pem.contains("-----END CERTIFICATE-----") else {
            throw .file("COG_CA_CERT", "no PEM certificate (-----BEGIN CERTIFICATE-----) found", hint: hint)
        }
        let text = pem.trimmingCharacters(in: .whitespacesAndNewlines)
        return text + "\n"
    }

    private static func file(_ path: String) throws(ConfigError) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw .file("COG_CA_CERT", "cannot read \(path)", hint: hint)
        }
        return text
    }

    private static func directory(_ path: String) throws(ConfigError) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(".crt") || $0.hasSuffix(".pem") }.sorted()
        guard !names.isEmpty else { throw .file("COG_CA_CERT", "\(path) holds no .crt or .pem file", hint: hint) }
        var parts: [String] = []
        for name in names { parts.append(try file("\(path)/\(name)").trimmingCharacters(in: .whitespacesAndNewlines)) }
        return parts.joined(separator: "\n")
    }

    /// Where the plan stages the certificate in the image.
    static let stagedPath = "/tmp/cog-ca-cert.crt"

    /// Cog's steps (`pkg/dockerfile/cacert.go`): the file, installed with update-ca-certificates and appended to
    /// the bundle, and the variables that point Python's TLS clients at the bundle.
    static func steps(_ pem: String) -> [BuildStep] {
        [
            .copyFile(path: stagedPath, contents: Array(pem.utf8), mode: 0o644),
            .run(
                RunStep(
                    command:
                        "cp /tmp/cog-ca-cert.crt /usr/local/share/ca-certificates/cog-ca-cert.crt && update-ca-certificates && cat /tmp/cog-ca-cert.crt >> /etc/ssl/certs/ca-certificates.crt",
                    summary: "install the COG_CA_CERT certificate")),
            .env([
                EnvVar(name: "SSL_CERT_FILE", value: "/etc/ssl/certs/ca-certificates.crt"),
                EnvVar(name: "REQUESTS_CA_BUNDLE", value: "/etc/ssl/certs/ca-certificates.crt"),
            ]),
        ]
    }
}

extension BuildPlan {
    /// The COG_CA_CERT certificates the plan installs, if any (steps trust them next to the host's bundle).
    var caCertificate: String? {
        for case .copyFile(let path, let contents, _) in steps where path == CACertificate.stagedPath {
            return String(decoding: contents, as: UTF8.self)
        }
        return nil
    }
}
