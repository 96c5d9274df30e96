import Foundation
import OCI
import TestSupport
import Testing

/// `cog login` against a registry with htpasswd auth, then a push with the stored credentials.
@Suite(.serialized) struct LoginTests {
    @Test func loginStoresCredentialsThatPushUses() throws {
        let registry = try TestRegistry(["--htpasswd", "alice:s3cret"])
        let dir = try TemporaryDirectory("login")
        let environment = ["DOCKER_CONFIG": "\(dir.path)/docker", "HOME": dir.path]
        let wrong = try runCommand(
            [PipelineTests.cog, "login", registry.address, "-u", "alice", "--token-stdin"], environment: environment,
            input: "nope\n")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("rejected the credentials"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("nope"))
        let login = try runCommand(
            [PipelineTests.cog, "login", registry.address, "-u", "alice", "--token-stdin"], environment: environment,
            input: "s3cret\n")
        #expect(login.status == 0, "\(login.output)")
        let config = try String(contentsOfFile: "\(dir.path)/docker/config.json", encoding: .utf8)
        #expect(config.contains(registry.address))
        // skopeo reads the same Docker config: the stored credentials work for another client too.
        let base = try TestBaseImage.ensure()
        let copy = try runCommand([
            "skopeo", "copy", "--dest-tls-verify=false", "--authfile", "\(dir.path)/docker/config.json",
            "oci:\(base):3.11-slim", "docker://\(registry.address)/alice/base:v1",
        ])
        #expect(copy.status == 0, "\(copy.output)")
        let pull = try runCommand(
            [PipelineTests.cog, "pull", "\(registry.address)/alice/base:v1", "--progress", "plain"],
            environment: environment.merging(["COG_CACHE_DIR": "\(dir.path)/cache"]) { $1 })
        #expect(pull.status == 0, "\(pull.output)")
    }
}
