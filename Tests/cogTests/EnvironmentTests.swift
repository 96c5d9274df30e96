import Foundation
import Registry
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
}
