import Foundation
import Layers
import TestSupport
import Testing

/// Reading subordinate ranges the way newuidmap does: by user name or numeric id, the first match.
@Suite struct UserNamespaceTests {
    @Test func rangesAreFoundByNameOrID() throws {
        let dir = try TemporaryDirectory("subid")
        let file = try dir.write(
            "subuid",
            """
            # comment:1:2
            other:100000:65536
            broken:abc:10
            empty:300000:0
            1001:200000:1000
            alice:165536:65536
            alice:500000:10
            """)
        #expect(UserNamespace.range(in: file, name: "alice", id: 1000) == .init(start: 165536, count: 65536))
        #expect(UserNamespace.range(in: file, name: "bob", id: 1001) == .init(start: 200000, count: 1000))
        #expect(UserNamespace.range(in: file, name: "broken", id: 7) == nil)
        #expect(UserNamespace.range(in: file, name: "empty", id: 7) == nil)
        #expect(UserNamespace.range(in: file, name: "nobody", id: 65534) == nil)
        #expect(UserNamespace.range(in: "\(dir.path)/missing", name: "alice", id: 1000) == nil)
    }

    @Test func theInitialNamespaceIsNotAUserNamespace() {
        // The test process runs outside any namespace cog makes; detect() must not claim the subordinate mapping.
        #expect(!UserNamespace.isInsideUserNamespace || ProcessInfo.processInfo.environment["COG_USERNS"] == nil)
        #expect(IDMapping.detect(environment: [:]) == (geteuid() == 0 ? .none : .single))
    }
}
