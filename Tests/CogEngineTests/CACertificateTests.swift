import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// COG_CA_CERT in its four forms, the steps it adds (where Cog puts them), and clear errors for what is not one.
@Suite struct CACertificateTests {
    static let yaml = "build:\n  python_version: \"3.11\"\npredict: \"predict.py:P\"\n"

    static func certificate(in dir: TemporaryDirectory, name: String = "ca") throws -> String {
        try makeCertificate(in: dir, name: name)
    }

    @Test func everyFormGivesThePEMAndTheSteps() throws {
        let dir = try TemporaryDirectory("ca")
        let first = try Self.certificate(in: dir, name: "a")
        let second = try Self.certificate(in: dir, name: "b")
        try dir.write("bundle/b.pem", second)
        try dir.write("bundle/a.crt", first)
        try dir.write("bundle/notes.txt", "not a certificate")
        let trimmed = first.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        #expect(try CACertificate.resolve("\(dir.path)/a.crt") == trimmed)
        #expect(try CACertificate.resolve(first) == trimmed)
        #expect(try CACertificate.resolve(Data(first.utf8).base64EncodedString()) == trimmed)
        #expect(
            try CACertificate.resolve("\(dir.path)/bundle") == trimmed
                + second.trimmingCharacters(in: .whitespacesAndNewlines) + "\n",
            "a directory's .crt and .pem files, by name")
        #expect(try CACertificate.resolve("  ") == nil)

        var options = BuildPlanner.Options()
        options.caCertificate = "\(dir.path)/a.crt"
        let plan = try plan(Self.yaml, options: options)
        #expect(plan.steps[0] == .env(BuildPlanner.preamble))
        #expect(plan.steps[1] == .copyFile(path: "/tmp/cog-ca-cert.crt", contents: Array(trimmed.utf8), mode: 0o644))
        #expect(
            runSteps(plan).first?.command.hasPrefix(
                "cp /tmp/cog-ca-cert.crt /usr/local/share/ca-certificates/cog-ca-cert.crt && update-ca-certificates")
                == true)
        #expect(
            plan.steps[3]
                == .env([
                    EnvVar(name: "SSL_CERT_FILE", value: "/etc/ssl/certs/ca-certificates.crt"),
                    EnvVar(name: "REQUESTS_CA_BUNDLE", value: "/etc/ssl/certs/ca-certificates.crt"),
                ]))
        #expect(runSteps(plan)[1].summary == "install tini", "before everything else, as in Cog")
    }

    @Test func whatIsNotACertificateIsRefusedWithTheFix() throws {
        let dir = try TemporaryDirectory("ca-bad")
        try dir.write("empty/readme.md", "")
        try dir.write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        for (value, message) in [
            ("/nonexistent/ca.crt", "/nonexistent/ca.crt does not exist"),
            ("\(dir.path)/empty", "holds no .crt or .pem file"),
            ("\(dir.path)/key.pem", "no PEM certificate"),
            ("hello there", "neither a path, nor PEM, nor base64-encoded PEM"),
        ] {
            var options = BuildPlanner.Options()
            options.caCertificate = value
            do {
                _ = try plan(Self.yaml, options: options)
                Issue.record("\(value) was accepted")
            } catch let error as ConfigError {
                #expect(error.description.hasPrefix("COG_CA_CERT"), "\(error)")
                #expect(error.description.contains(message), "\(error)")
                #expect(error.description.contains(CACertificate.hint))
            }
        }
    }
}
