import Foundation

/// The package's root directory (for scripts and testdata).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A real registry process (Debian's docker-registry) on 127.0.0.1, stopped when released.
public final class TestRegistry: @unchecked Sendable {
    public let directory: TemporaryDirectory
    /// `127.0.0.1:PORT`.
    public let address: String

    /// - Parameter arguments: extra `test-registry.sh start` options (`--htpasswd user:pass`, `--token-auth DIR`).
    public init(_ arguments: [String] = []) throws {
        directory = try TemporaryDirectory("registry")
        let result = try runCommand(["\(packageRoot)/scripts/test-registry.sh", "start", directory.path] + arguments)
        guard result.status == 0 else { throw TestSetupError("test-registry.sh start failed: \(result.stderr)") }
        address = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { _ = try? runCommand(["\(packageRoot)/scripts/test-registry.sh", "stop", directory.path]) }
}

/// A test could not set up a real component.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A background helper process (token server, fault proxy), killed when released.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    public let directory: TemporaryDirectory

    /// Starts `arguments` and waits until it writes `DIR/port`; `{DIR}` in arguments is replaced.
    public init(_ arguments: [String], label: String) throws {
        let directory = try TemporaryDirectory(label)
        self.directory = directory
        let resolved = arguments.map { $0.replacingOccurrences(of: "{DIR}", with: directory.path) }
        pid = try spawnDetached(resolved, log: "\(directory.path)/stderr.log")
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(directory.path)/port") {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let log = (try? String(contentsOfFile: "\(directory.path)/stderr.log", encoding: .utf8)) ?? ""
                throw TestSetupError("\(resolved.joined(separator: " ")) exited: \(log)")
            }
            usleep(50_000)
        }
        guard FileManager.default.fileExists(atPath: "\(directory.path)/port") else {
            throw TestSetupError("\(label) did not start")
        }
    }

    public var port: String {
        ((try? String(contentsOfFile: "\(directory.path)/port", encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// Lines of `DIR/requests.log`.
    public var log: [String] {
        ((try? String(contentsOfFile: "\(directory.path)/requests.log", encoding: .utf8)) ?? "").split(separator: "\n")
            .map(String.init)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// A copy of an executable (and the resource bundles beside it) in a world-readable folder, so a test can run
/// it as `nobody` wherever the checkout lives.
public func copyForOtherUsers(executable: String, in directory: TemporaryDirectory) throws -> String {
    let folder = "\(directory.path)/bin"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let source = URL(fileURLWithPath: executable).deletingLastPathComponent().path
    let bundles = ((try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []).filter {
        $0.hasSuffix(".resources")
    }
    for name in [URL(fileURLWithPath: executable).lastPathComponent] + bundles {
        let result = try runCommand(["cp", "-r", "\(source)/\(name)", folder])
        guard result.status == 0 else { throw TestSetupError("cp \(name): \(result.stderr)") }
    }
    _ = try runCommand(["chmod", "-R", "a+rX", directory.path])
    return "\(folder)/\(URL(fileURLWithPath: executable).lastPathComponent)"
}
