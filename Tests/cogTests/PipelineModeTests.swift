import Foundation
import OCI
import TestSupport
import Testing

/// The pipeline in the other isolation modes: rootless as nobody, and snapshot capture.
@Suite(.serialized) struct PipelineModeTests {
    static var cog: String { PipelineTests.cog }

    @Test func rootlessBuildAndPredictAsNobody() throws {
        guard isRoot, commandExists("setpriv") else { return }  // root is needed to become nobody
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("rootless")
        let project = try PipelineTests.project(in: dir)
        try dir.write("token", "rootless-secret")
        let cog = try copyForOtherUsers(executable: Self.cog, in: dir)
        _ = try runCommand(["chown", "-R", "nobody:nogroup", dir.path])
        let asNobody = [
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=\(dir.path)",
            "COG_REGISTRY_MIRRORS=docker.io=\(registry.address)", "COG_CACHE_DIR=\(dir.path)/cache", cog,
        ]
        let build = try runCommand(
            asNobody + [
                "build", "--oci-out", "\(dir.path)/out", "-t", "rootless", "--secret", "id=token,src=\(dir.path)/token",
                "--progress", "plain",
            ], directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(build.stderr.contains("rootless, one uid mapped to root"))
        #expect(build.stderr.contains("because: no subordinate id range for this user"), "the build says why")
        // Its layer dirs (every file the caller's) are kept apart from those of builds that keep owners.
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/cache/layers-single"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/cache/layers"))
        let validate = try runCommand([
            "oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(dir.path)/out",
        ])
        #expect(validate.status == 0, "\(validate.output)")
        // Files the steps wrote belong to root in the layers, not to nobody.
        let image = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        let owners = try runCommand([
            "sh", "-c",
            "bsdtar -tvf \(dir.path)/out/blobs/sha256/\(image.manifest.layers[2].digest.encoded) | awk '{print $3\":\"$4}' | sort -u",
        ]).stdout
        #expect(owners == "0:0\n", "\(owners)")
        let predict = try runCommand(asNobody + ["predict", "rootless", "-i", "name=nobody"], directory: project)
        #expect(predict.stdout == "hello, nobody\n", "\(predict.output)")
    }

    @Test func snapshotCaptureBuildsAWorkingImage() throws {
        // COG_CAPTURE=snapshot forces the method used where overlayfs cannot be mounted.
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("snapshot")
        let project = try PipelineTests.project(in: dir)
        try dir.write("token", "snapshot-secret")
        // COG_CA_CERT too: the certificate goes into the image, and pip in later steps still reaches PyPI
        // through this machine's proxy (the sandbox's CA settings win over the image's SSL_CERT_FILE).
        let certificate = try makeCertificate(in: dir)
        let environment = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
            "COG_CAPTURE": "snapshot",
            "COG_CA_CERT": "\(dir.path)/ca.crt",
        ]
        let build = try runCommand(
            [
                Self.cog, "build", "--oci-out", "\(dir.path)/out", "-t", "snap", "--secret",
                "id=token,src=\(dir.path)/token", "--progress", "plain",
            ],
            environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/bundle/rootfs/usr/games/cowsay"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/bundle/rootfs/run/secrets/token"))
        let installed = try String(
            contentsOfFile: "\(dir.path)/bundle/rootfs/usr/local/share/ca-certificates/cog-ca-cert.crt", encoding: .utf8
        )
        #expect(
            installed.trimmingCharacters(in: .whitespacesAndNewlines)
                == certificate.trimmingCharacters(in: .whitespacesAndNewlines))
        let systemBundle = try String(
            contentsOfFile: "\(dir.path)/bundle/rootfs/etc/ssl/certs/ca-certificates.crt", encoding: .utf8)
        #expect(systemBundle.contains(certificate.split(separator: "\n")[1]), "the certificate is in the system bundle")
        let config = try OCILayout.open("\(dir.path)/out").image(named: "latest").configuration.config
        #expect(config?.env?.contains("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") == true)
        let predict = try runCommand(
            [Self.cog, "predict", "snap", "-i", "name=snapshot"], environment: environment, directory: project)
        #expect(predict.stdout == "hello, snapshot\n", "\(predict.output)")
    }
}
