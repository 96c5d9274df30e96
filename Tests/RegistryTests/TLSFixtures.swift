import Foundation
import TestSupport

/// A certificate authority made for one test with openssl, and server certificates it signs.
struct TestCA {
    let directory: TemporaryDirectory
    /// The CA's certificate (PEM): what `SSL_CERT_FILE` points at.
    let certificate: String

    init(_ name: String = "cog test CA") throws {
        directory = try TemporaryDirectory("ca")
        certificate = "\(directory.path)/\(name.replacingOccurrences(of: " ", with: "-")).pem"
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "\(certificate).key", "-out", certificate, "-days", "2", "-subj", "/CN=\(name)", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    /// A server certificate for `names` (DNS subject alternative names): the paths of its PEM and key.
    func issue(for names: [String]) throws -> (certificate: String, key: String) {
        let base = "\(directory.path)/\(names[0])"
        try Self.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "\(base).key", "-out", "\(base).csr", "-subj", "/CN=\(names[0])",
        ])
        let extensions = try directory.write(
            "\(names[0]).ext",
            """
            subjectAltName=\(names.map { "DNS:\($0)" }.joined(separator: ","))
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth

            """)
        try Self.openssl([
            "x509", "-req", "-in", "\(base).csr", "-CA", certificate, "-CAkey", "\(certificate).key",
            "-CAcreateserial", "-out", "\(base).pem", "-days", "2", "-extfile", extensions,
        ])
        return ("\(base).pem", "\(base).key")
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try runCommand(["openssl"] + arguments)
        guard result.status == 0 else { throw TestSetupError("openssl \(arguments[0]) failed: \(result.output)") }
    }
}

/// A made-up host name for 127.0.0.1 in /etc/hosts while the object lives. TLS needs a name that the
/// certificate holds and the client verifies, and cog speaks plain HTTP to loopback addresses, so the HTTPS
/// tests reach their registry by name (`*.test` is reserved, RFC 6761). Needs root, as the tests run.
final class HostsEntry: @unchecked Sendable {
    let name: String
    private static let hosts = "/etc/hosts"

    init(_ label: String) throws {
        name = "\(label)-\(UUID().uuidString.prefix(8).lowercased()).test"
        try Self.edit { $0 + "127.0.0.1 \(name)\n" }
    }

    deinit {
        let name = name
        try? Self.edit { text in
            text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasSuffix(" \(name)") }
                .joined(separator: "\n")
        }
    }

    /// Rewrites /etc/hosts in place (it may be a bind mount: no rename), under a lock so tests running at once
    /// never lose each other's lines.
    private static func edit(_ change: (String) -> String) throws {
        let lock = open("/tmp/cog-test-etc-hosts.lock", O_CREAT | O_RDWR, 0o666)
        guard lock >= 0 else { throw TestSetupError("cannot open the /etc/hosts lock: errno \(errno)") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        let text = try String(contentsOfFile: hosts, encoding: .utf8)
        let changed = Data(change(text.hasSuffix("\n") || text.isEmpty ? text : text + "\n").utf8)
        let fd = open(hosts, O_WRONLY | O_TRUNC)
        guard fd >= 0 else {
            throw TestSetupError("cannot write \(hosts) (errno \(errno)): the HTTPS tests need root to name 127.0.0.1")
        }
        defer { close(fd) }
        let written = changed.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == changed.count else { throw TestSetupError("short write to \(hosts)") }
    }
}
