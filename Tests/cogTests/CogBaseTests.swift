import Foundation
import OCI
import TestSupport
import Testing

/// Cog's cog-base images through the binary: the debootstrapped Python 3.11 base pushed to a loopback registry as
/// `cog-base:python3.11` stands for Replicate's image, reached as r8.im through `COG_REGISTRY_MIRRORS`.
@Suite(.serialized) struct CogBaseTests {
    static var cog: String { PipelineTests.cog }

    /// A loopback registry holding the stand-in under `cog-base:python3.11`.
    static func registryWithCogBase() throws -> TestRegistry {
        let registry = try TestRegistry()
        let push = try runCommand([
            "\(packageRoot)/scripts/make-base-image.sh", "push", try TestBaseImage.ensure(), registry.address,
            "cog-base:python3.11",
        ])
        guard push.status == 0 else { throw TestSetupError("pushing the stand-in cog-base failed: \(push.output)") }
        return registry
    }

    static func project(in dir: TemporaryDirectory, python: String = "3.11") throws -> String {
        try dir.write(
            "model/cog.yaml",
            """
            build:
              python_version: "\(python)"
              system_packages: ["ffmpeg", "git"]
              python_packages: ["six==1.16.0"]
            predict: "predict.py:Predictor"
            """)
        try dir.write(
            "model/predict.py",
            """
            from cog import BasePredictor
            import six

            class Predictor(BasePredictor):
                def predict(self, name: str = "world") -> str:
                    return "hello " + name
            """)
        return "\(dir.path)/model"
    }

    @Test func theCogBaseImageIsUsedThroughAMirrorAndLabelled() throws {
        let registry = try Self.registryWithCogBase()
        let dir = try TemporaryDirectory("cog-base")
        let project = try Self.project(in: dir)
        let environment = ["COG_REGISTRY_MIRRORS": "r8.im=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache"]

        // MARK: the plan: Path B, the flag given bare (Cog's boolean)
        let debug = try runCommand(
            [Self.cog, "debug", "--use-cog-base-image"], environment: environment, directory: project)
        #expect(debug.status == 0, "\(debug.output)")
        #expect(debug.stderr.isEmpty, "\(debug.stderr)")
        let lines = debug.stdout.split(separator: "\n")
        #expect(lines.contains("FROM r8.im/cog-base:python3.11"), "\(debug.stdout)")
        #expect(lines.contains("ENV UV_SYSTEM_PYTHON=true"))
        #expect(lines.contains { $0.hasPrefix("RUN python3 -c 'import hashlib") })
        #expect(!lines.contains { $0.contains("apt-get") }, "ffmpeg and git are in every cog-base image")
        #expect(
            !lines.contains {
                ($0.hasPrefix("RUN") && ($0.contains("tini") || $0.contains("ldconfig")))
                    || $0.hasPrefix("ENV DEBIAN_FRONTEND")
            }, "the base has tini, ldconfig and the preamble")
        #expect(lines.contains(#"LABEL run.cog.cog-base-image-name="r8.im/cog-base:python3.11""#))

        // MARK: the build, by default: uv from PyPI, requirements and the runtime with uv
        let build = try runCommand(
            [Self.cog, "build", "-t", "cog-base-model", "--oci-out", "\(dir.path)/out", "--progress", "plain"],
            environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(4000))")
        #expect(!build.stderr.contains("suitable base image"), "\(build.stderr.suffix(2000))")
        #expect(build.stderr.contains("FROM r8.im/cog-base:python3.11"), "\(build.stderr.suffix(4000))")

        // MARK: the labels, against the stand-in's config
        let base = try OCILayout.open(try TestBaseImage.ensure()).image(named: "3.11-slim")
        let diffIDs = base.configuration.rootfs.diffIDs
        let image = try OCILayout.open("\(dir.path)/out").image(named: "latest")
        let labels = image.configuration.config?.labels ?? [:]
        #expect(labels["run.cog.cog-base-image-name"] == "r8.im/cog-base:python3.11")
        #expect(labels["run.cog.cog-base-image-last-layer-sha"] == diffIDs.last?.description)
        #expect(labels["run.cog.cog-base-image-last-layer-idx"] == String(diffIDs.count - 1))
        #expect(Array(image.configuration.rootfs.diffIDs.prefix(diffIDs.count)) == diffIDs, "built on the stand-in")
        let freeze = labels["run.cog.pip_freeze"] ?? ""
        #expect(freeze.contains("six==1.16.0") && freeze.contains("cog=="), "\(freeze)")
        let env = image.configuration.config?.env ?? []
        #expect(env.contains("UV_SYSTEM_PYTHON=true") && !env.contains { $0.hasPrefix("DEBIAN_FRONTEND=") })

        // MARK: independent validators; uv where Cog puts it
        let validate = try runCommand([
            "oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(dir.path)/out",
        ])
        #expect(validate.status == 0, "\(validate.output)")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        for name in ["uv", "uvx"] {
            #expect(FileManager.default.isExecutableFile(atPath: "\(dir.path)/bundle/rootfs/usr/local/bin/\(name)"))
        }
    }

    @Test func aMissingOrUnsupportedCogBaseFallsBackOrFailsAsAsked() throws {
        let registry = try Self.registryWithCogBase()
        let dir = try TemporaryDirectory("cog-base-missing")
        let project = try Self.project(in: dir, python: "3.12")
        let environment = ["COG_REGISTRY_HOST": registry.address]
        let missing = "unsupported base image configuration: CUDA: (none) / Python: 3.12 / Torch: (none)"

        // MARK: not asked: one warning, python-slim
        let fallback = try runCommand([Self.cog, "debug"], environment: environment, directory: project)
        #expect(fallback.status == 0, "\(fallback.output)")
        #expect(
            fallback.stderr
                == "warning: Could not find a suitable base image, continuing without base image support (\(missing)).\n"
        )
        #expect(fallback.stdout.contains("\nFROM python:3.12-slim\n"))
        #expect(fallback.stdout.contains("apt-get install -qqy ffmpeg git"), "the whole apt line again")
        #expect(!fallback.stdout.contains("cog-base-image-name"))

        // MARK: asked for: the error, naming the fix
        let required = try runCommand(
            [Self.cog, "debug", "--use-cog-base-image=true"], environment: environment, directory: project)
        #expect(required.status == 1)
        #expect(
            required.stderr.hasPrefix(
                "error: \(missing): Replicate publishes no cog-base image for it; pass --use-cog-base-image=false"),
            "\(required.stderr)")
        #expect(required.stdout.isEmpty)

        // MARK: a combination Cog never publishes (Python 3.9) fails before asking the registry
        let old = try TemporaryDirectory("cog-base-old")
        let oldProject = try Self.project(in: old, python: "3.9")
        let unsupported = try runCommand(
            [Self.cog, "debug", "--use-cog-base-image"],
            environment: ["COG_REGISTRY_HOST": "127.0.0.1:\(try closedPort())"],
            directory: oldProject)
        #expect(unsupported.status == 1)
        #expect(
            unsupported.stderr.hasPrefix(
                "error: unsupported base image configuration: CUDA: (none) / Python: 3.9 / Torch: (none): "),
            "\(unsupported.stderr)")

        // MARK: switched off: no lookup, even where the image exists
        let offDirectory = try TemporaryDirectory("cog-base-off")
        let project311 = try Self.project(in: offDirectory)
        let off = try runCommand(
            [Self.cog, "debug", "--use-cog-base-image=false"], environment: environment, directory: project311)
        #expect(off.status == 0 && off.stderr.isEmpty, "\(off.output)")
        #expect(off.stdout.contains("\nFROM python:3.11-slim\n"))
    }
}
