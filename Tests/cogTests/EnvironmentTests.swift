import CogEngine
import Foundation
import Registry
import TestSupport
import Testing

@testable import cog

/// The environment read once at the edge into settings values.
@Suite struct EnvironmentTests {
    @Test func settingsFromEnvironment() {
        let settings = Environment(variables: [
            "COG_REGISTRY_MIRRORS": "docker.io=127.0.0.1:5000, ghcr.io=mirror.local",
            "COG_INSECURE_REGISTRIES": "registry.lan:5000",
        ]).registry
        #expect(settings.mirrors["docker.io"] == ["127.0.0.1:5000"])
        #expect(settings.mirrors["ghcr.io"] == ["mirror.local"])
        #expect(settings.scheme(for: "127.0.0.1:5000") == "http")
        #expect(settings.scheme(for: "localhost:1") == "http")
        #expect(settings.scheme(for: "registry.lan:5000") == "http")
        #expect(settings.scheme(for: "r8.im") == "https")
    }

    @Test func cacheRootAndEpoch() {
        #expect(Environment(variables: ["COG_CACHE_DIR": "/c", "HOME": "/h"]).paths.root == "/c")
        #expect(Environment(variables: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).paths.root == "/x/cog")
        #expect(Environment(variables: ["HOME": "/h"]).paths.root == "/h/.cache/cog")
        #expect(Environment(variables: ["SOURCE_DATE_EPOCH": "1700000000"]).sourceDateEpoch == 1_700_000_000)
        #expect(Environment(variables: [:]).sourceDateEpoch == 0)
    }

    @Test func labelVersionAndCIRevisionAsCogReadsThem() throws {
        let dir = try TemporaryDirectory("not-a-checkout")
        let options = Environment(variables: [
            "COG_LABEL_VERSION": "0.16.9", "GITHUB_SHA": "abc123", "GITHUB_REF_NAME": "v1.2.3", "PATH": "/usr/bin:/bin",
        ]).planOptions(projectDirectory: dir.path)
        #expect(options.cogVersionLabel == "0.16.9")
        #expect(options.revision == GitRevision(commit: "abc123", version: "v1.2.3"))
        let plain = Environment(variables: ["PATH": "/usr/bin:/bin"]).planOptions(projectDirectory: dir.path)
        #expect(plain.cogVersionLabel == nil, "without it, the label is the cog runtime's version")
        #expect(plain.revision == GitRevision(), "a folder that is not a checkout has no revision")
    }

    @Test func cogsPushVariablesWinOverTheOlderNames() {
        let cogs = Environment(variables: [
            "COG_PUSH_DEFAULT_CHUNK_SIZE": "1000", "COG_PUSH_CHUNK_SIZE": "2000",
            "COG_PUSH_MULTIPART_THRESHOLD": "3000", "COG_PUSH_CHUNK_THRESHOLD": "4000", "COG_PUSH_CONCURRENCY": "7",
        ]).registry
        #expect(cogs.chunkSize == 1000)
        #expect(cogs.chunkThreshold == 3000)
        #expect(cogs.concurrency == 7)
        let older = Environment(variables: [
            "COG_PUSH_CHUNK_SIZE": "2000", "COG_PUSH_CHUNK_THRESHOLD": "4000", "COG_PUSH_DEFAULT_CHUNK_SIZE": "zero",
        ]).registry
        #expect(older.chunkSize == 2000)
        #expect(older.chunkThreshold == 4000)
        let defaults = Environment(variables: ["COG_PUSH_MULTIPART_THRESHOLD": "-1"]).registry
        #expect(defaults.chunkThreshold == RegistrySettings.defaultChunkThreshold)
    }

    @Test func replicatesModelPageAndMissingModel() throws {
        let model = try ImageReference(parsing: "r8.im/owner/name:v2")
        let other = try ImageReference(parsing: "ghcr.io/owner/name")
        #expect(Replicate.modelPage(model) == "https://replicate.com/owner/name")
        #expect(Replicate.modelPage(other) == nil)
        let notFound = RegistryError.http(
            method: "POST", url: "https://r8.im/v2/owner/name/blobs/uploads/", status: 404,
            errors: [], body: "")
        let unknown = RegistryError.http(
            method: "PUT", url: "https://r8.im/v2/owner/name/manifests/v2", status: 400,
            errors: [
                try JSONDecoder().decode(
                    RegistryError.ErrorDetail.self,
                    from: Data(#"{"code":"NAME_UNKNOWN","message":"no such model"}"#.utf8))
            ], body: "")
        #expect(Replicate.isNotFound(unknown))
        let explained = "\(Replicate.explain(notFound, pushing: model))"
        #expect(explained.hasPrefix("Unable to find existing Replicate model for r8.im/owner/name"), "\(explained)")
        #expect(explained.contains("model does not exist yet; create it first at https://replicate.com/create"))
        #expect("\(Replicate.explain(notFound, pushing: other))" == "\(notFound)")
        let denied = RegistryError.unauthorized(registry: "r8.im", repository: "owner/name", hint: "run cog login")
        #expect("\(Replicate.explain(denied, pushing: model))" == "\(denied)")
    }
}

/// Cog's boolean flags rewritten into ArgumentParser's forms.
@Suite struct CogFlagsTests {
    @Test(
        arguments: [
            (["build", "--no-cache=true", "--separate-weights=false"], ["build", "--no-cache"]),
            (["build", "--no-cache=1", "--separate-weights=T"], ["build", "--no-cache", "--separate-weights"]),
            (["build", "--use-cog-base-image"], ["build", "--use-cog-base-image=true"]),
            (["build", "--use-cog-base-image", "-t", "x"], ["build", "--use-cog-base-image=true", "-t", "x"]),
            (["build", "--use-cog-base-image", "false"], ["build", "--use-cog-base-image", "false"]),
            (["build", "--use-cog-base-image=0"], ["build", "--use-cog-base-image=false"]),
            (["build", "--no-cache=maybe"], ["build", "--no-cache=maybe"]),
            (["exec", "sh", "--no-cache=true"], ["exec", "sh", "--no-cache=true"]),
            (["run", "-e", "A=1", "x", "--use-cog-base-image"], ["run", "-e", "A=1", "x", "--use-cog-base-image"]),
            (["predict", "--", "--no-cache=false"], ["predict", "--", "--no-cache=false"]),
        ] as [([String], [String])])
    func boolFlagsAsCogTakesThem(given: [String], parsed: [String]) {
        #expect(CogFlags.normalized(given) == parsed)
    }

    /// Cog ≥ 0.20's `cog run [IMAGE] -i …` predicts; the seeds' `cog run CMD…` still runs a command.
    @Test(
        arguments: [
            (["run", "-i", "s=world"], ["predict", "-i", "s=world"]),
            (["run", "my-image", "--input", "s=1"], ["predict", "my-image", "--input", "s=1"]),
            (["run", "--json={}"], ["predict", "--json={}"]),
            (["run"], ["predict"]),
            (["run", "python", "train.py", "-i", "x"], ["run", "python", "train.py", "-i", "x"]),
            (["run", "sh", "-c", "grep -i x f"], ["run", "sh", "-c", "grep -i x f"]),
            (["run", "-e", "A=1", "echo"], ["run", "-e", "A=1", "echo"]),
            (["exec", "-i"], ["exec", "-i"]),
            (["predict", "-i", "s=1"], ["predict", "-i", "s=1"]),
        ] as [([String], [String])])
    func runPredictsWhenGivenInputs(given: [String], routed: [String]) {
        #expect(CogFlags.routed(given) == routed)
    }
}
