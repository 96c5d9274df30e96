import Foundation
import TestSupport
import Testing

@testable import Layers

/// What a step's environment holds when the image and the host both set something.
@Suite struct StepEnvironmentTests {
    @Test func proxiesAndCAReplaceTheImagesAndIndexSettingsOnlyFillIn() {
        let image = [
            "PATH=/usr/bin", "https_proxy=http://image-proxy:1",
            "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cu121",
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        ]
        let host = [
            "https_proxy": "http://host-proxy:3128", "PIP_EXTRA_INDEX_URL": "https://host-mirror/simple",
            "PIP_INDEX_URL": "https://host-mirror/pypi", "PIP_FIND_LINKS": "/opt/wheels", "HOME": "/root",
        ]
        let result = StepRunner.environment(image: image, host: host, hasBundle: true)
        let values = Dictionary(
            result.map { entry -> (String, [String]) in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], [parts.count > 1 ? parts[1] : ""])
            }, uniquingKeysWith: +)
        #expect(values["https_proxy"] == ["http://host-proxy:3128"], "one entry, the host's")
        #expect(
            values["PIP_EXTRA_INDEX_URL"] == ["https://download.pytorch.org/whl/cu121"], "the project's own index stays"
        )
        #expect(values["PIP_INDEX_URL"] == ["https://host-mirror/pypi"], "the host's mirror fills in")
        #expect(values["SSL_CERT_FILE"] == [StepRunner.bundleTarget])
        #expect(values["PIP_CERT"] == [StepRunner.bundleTarget])
        #expect(values["PIP_FIND_LINKS"] == nil, "host-local paths are not passed")
        #expect(values["HOME"] == nil)
        #expect(values["PATH"] == ["/usr/bin"])
    }

    @Test func givenVariablesReplaceTheImagesOfTheSameName() {
        // `cog predict -e LOG_LEVEL=debug` and the port cog picks, over the image's ENV.
        let merged = StepRunner.environment(
            ["PATH=/usr/bin", "LOG_LEVEL=info", "PORT=5000"], replacing: ["LOG_LEVEL=debug", "PORT=41234"])
        #expect(merged == ["PATH=/usr/bin", "LOG_LEVEL=debug", "PORT=41234"])
    }

    @Test func extraCertificatesAreJoinedToTheHostBundle() throws {
        let dir = try TemporaryDirectory("bundle")
        let hostBundle = try dir.write("host.pem", "HOST CERTS\n")
        #expect(
            try StepRunner.caBundle(host: ["SSL_CERT_FILE": hostBundle], extra: nil, scratch: dir.path) == hostBundle)
        let joined = try #require(
            try StepRunner.caBundle(host: ["SSL_CERT_FILE": hostBundle], extra: "EXTRA CERT\n", scratch: dir.path))
        #expect(try String(contentsOfFile: joined, encoding: .utf8) == "HOST CERTS\n\nEXTRA CERT\n")
    }
}
