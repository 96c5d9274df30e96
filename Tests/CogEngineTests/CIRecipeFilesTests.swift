import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// The CI recipes in `examples/ci/` parse as YAML and run what the README says: the shared script, with the
/// registry cache, and (Kubernetes) in a pod that is not privileged and keeps the default seccomp profile.
/// `Tests/cogTests/CIRecipeTests.swift` runs the script itself.
@Suite struct CIRecipeFilesTests {
    static func load(_ name: String) throws -> YAMLNode {
        let text = try String(contentsOfFile: "\(packageRoot)/examples/ci/\(name)", encoding: .utf8)
        return try #require(try YAMLParser.parse(text))
    }

    @Test func theWorkflowLogsInAndRunsTheScriptWithTheCache() throws {
        let workflow = try Self.load("github-actions.yml")
        let steps = try #require(workflow["jobs"]?["push"]?["steps"]?.sequence)
        let runs = steps.compactMap { $0["run"]?.scalar }
        #expect(runs.contains { $0.contains("cog login ghcr.io") && $0.contains("--token-stdin") })
        let push = try #require(steps.first { $0["run"]?.scalar?.contains("examples/ci/build-and-push.sh") == true })
        #expect(push["env"]?["IMAGE"]?.scalar?.hasPrefix("r8.im/") == true)
        #expect(push["env"]?["CACHE"]?.scalar?.hasPrefix("ghcr.io/") == true)
        #expect(workflow["permissions"]?["packages"]?.scalar == "write", "the job pushes the cache to ghcr.io")
        let script = try String(contentsOfFile: "\(packageRoot)/examples/ci/build-and-push.sh", encoding: .utf8)
        #expect(script.contains("--cache-from \"$CACHE\" --cache-to \"$CACHE\""))
        #expect(script.contains("--token-stdin"))
    }

    @Test func theJobIsUnprivilegedAndSaysWhy() throws {
        let job = try Self.load("kubernetes-job.yaml")
        #expect(job["kind"]?.scalar == "Job")
        let container = try #require(job["spec"]?["template"]?["spec"]?["containers"]?.sequence?.first)
        let command = (container["command"]?.sequence ?? []).compactMap { $0.scalar }
        #expect(command.last?.hasSuffix("examples/ci/build-and-push.sh") == true)
        let security = try #require(container["securityContext"])
        #expect(security["privileged"]?.scalar == "false")
        #expect(security["seccompProfile"]?["type"]?.scalar == "RuntimeDefault")
        #expect((security["capabilities"]?["drop"]?.sequence ?? []).compactMap { $0.scalar } == ["ALL"])
        let added = Set((security["capabilities"]?["add"]?.sequence ?? []).compactMap { $0.scalar })
        // What chroot isolation needs, and nothing that lets a process make namespaces or mounts.
        #expect(added.isSuperset(of: ["SYS_CHROOT", "MKNOD", "SETPCAP", "SETUID", "SETGID", "CHOWN"]))
        #expect(added.isDisjoint(with: ["SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_ADMIN"]))
        // Every line of the securityContext explains itself.
        let text = try String(contentsOfFile: "\(packageRoot)/examples/ci/kubernetes-job.yaml", encoding: .utf8)
        let block = text.components(separatedBy: "securityContext:")[1].components(separatedBy: "volumes:")[0]
        let settings = block.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        let previous = block.split(separator: "\n")
        for (index, line) in previous.enumerated() where settings.contains(line) && !line.contains("capabilities:") {
            let explained = line.contains("#") || (index > 0 && previous[index - 1].contains("#"))
            #expect(explained, "unexplained: \(line)")
        }
    }
}

extension YAMLNode {
    fileprivate subscript(key: String) -> YAMLNode? { mapping?.first { $0.key.scalar == key }?.value }
}
