import Foundation
import TestSupport
import Testing

/// What `cog pull` tells a person when the registry is not one, or not there: the cause and the fix, once,
/// with the retries announced.
@Suite struct RegistryMessageTests {
    func pull(_ image: String) throws -> CommandResult {
        let dir = try TemporaryDirectory("pull-message")
        return try runCommand(
            [try cogExecutable(), "pull", image, "--progress", "plain"],
            environment: ["COG_CACHE_DIR": "\(dir.path)/cache", "DOCKER_CONFIG": "\(dir.path)/docker"])
    }

    @Test func aNameThatDoesNotResolve() throws {
        let result = try pull("no-such-registry.invalid/app:v1")
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "error: cannot reach no-such-registry.invalid: the name does not resolve (Could not resolve host: "
                    + "no-such-registry.invalid); check the registry name in the image reference and this machine's DNS"
            ),
            "\(result.stderr)")
        #expect(result.stderr.contains("(attempt 1 of 3); retrying"), "\(result.stderr)")
        #expect(!result.stderr.contains("bad argument"), "\(result.stderr)")
        #expect(!result.stderr.contains("trying the next source"), "\(result.stderr)")
    }

    @Test func aPlainWebServer() throws {
        let server = try BackgroundProcess(
            ["python3", "\(packageRoot)/testdata/registry/bad-server.py", "--dir", "{DIR}", "--mode", "html"],
            label: "web")
        let result = try pull("127.0.0.1:\(server.port)/app:v1")
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "error: HTTP 404 from 127.0.0.1:\(server.port): not a container registry (the reply to GET "
                    + "http://127.0.0.1:\(server.port)/v2/app/manifests/v1 is an HTML page titled \"404 Not Found\"); "
                    + "check the registry name and port"),
            "\(result.stderr)")
        #expect(!result.stderr.contains("<html>"), "\(result.stderr)")
    }
}
