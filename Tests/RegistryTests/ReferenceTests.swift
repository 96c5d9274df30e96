import OCI
import Testing

@testable import Registry

@Suite struct ReferenceTests {
    @Test(arguments: [
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim"),
        ("nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04", "docker.io", "nvidia/cuda", "12.8.1-cudnn-devel-ubuntu24.04"),
        ("r8.im/user/model", "r8.im", "user/model", "latest"),
        ("127.0.0.1:5000/library/python:3.11-slim", "127.0.0.1:5000", "library/python", "3.11-slim"),
        ("localhost/x", "localhost", "x", "latest"),
        ("index.docker.io/library/ubuntu", "docker.io", "library/ubuntu", "latest"),
        ("ghcr.io/org/repo/sub:v1.2", "ghcr.io", "org/repo/sub", "v1.2"),
    ])
    func parses(value: String, registry: String, repository: String, tag: String) throws {
        let reference = try ImageReference(parsing: value)
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
    }

    @Test func digestReferences() throws {
        let hex = String(repeating: "ab", count: 32)
        let reference = try ImageReference(parsing: "r8.im/u/m@sha256:\(hex)")
        #expect(reference.tag == nil)
        #expect(reference.manifestReference == "sha256:\(hex)")
        #expect(reference.description == "r8.im/u/m@sha256:\(hex)")
    }

    @Test(arguments: [
        ("", "it is empty"),
        ("User/Model", "may only use lowercase letters"),
        ("r8.im/u/m:bad tag", "tag \"bad tag\" is not valid"),
        ("r8.im/u/m@sha256:xyz", "invalid digest"),
    ])
    func rejects(value: String, reason: String) {
        do {
            _ = try ImageReference(parsing: value)
            Issue.record("\(value) parsed")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func dockerHubAPIHost() throws {
        #expect(try ImageReference(parsing: "ubuntu").apiHost == "registry-1.docker.io")
        #expect(try ImageReference(parsing: "r8.im/a/b").apiHost == "r8.im")
    }

    @Test func authChallengeParsing() {
        let challenge = AuthChallenge(
            header:
                #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push""#
        )
        #expect(challenge?.scheme == "bearer")
        #expect(challenge?.realm == "https://auth.docker.io/token")
        #expect(challenge?.service == "registry.docker.io")
        #expect(challenge?.scope == "repository:library/ubuntu:pull,push")
        #expect(AuthChallenge(header: #"Basic realm="Registry Realm""#)?.scheme == "basic")
    }

    @Test func uploadURLHelpers() throws {
        let digest = try Digest(parsing: "sha256:" + String(repeating: "0", count: 64))
        #expect(
            appendingDigest("http://h/v2/r/blobs/uploads/u?_state=x", digest)
                == "http://h/v2/r/blobs/uploads/u?_state=x&digest=\(digest)")
        #expect(appendingDigest("http://h/u", digest) == "http://h/u?digest=\(digest)")
        #expect(parseRangeEnd("0-1023") == 1023)
        #expect(parseRangeEnd("bytes=0-9") == 9)
        #expect(
            resolveLocation("/v2/r/blobs/uploads/abc?x=1", against: "http://127.0.0.1:5000/v2/r/blobs/uploads/")
                == "http://127.0.0.1:5000/v2/r/blobs/uploads/abc?x=1")
    }
}
