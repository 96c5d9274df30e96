import Foundation
import OCI
import TestSupport
import Testing

/// Layers that images share: a large distribution in a layer of its own with the same digest in two different
/// models (and under both capture methods), weights in layers of their own before the code, and a code edit
/// that changes only the code layer.
@Suite(.serialized) struct SharedLayersTests {
    static var cog: String { PipelineTests.cog }

    /// A wheel `bigpkg` with 2 MiB of fixed random data, a module and a console script.
    /// The same bytes every time (fixed zip timestamps): two models made seconds apart under load once got two
    /// wheels, so their artifact layers differed and the second push uploaded it (`PushWhileBuildingTests`).
    static func makeBigWheel(at path: String) throws {
        let script = """
            import base64, hashlib, os, random, sys, zipfile
            data = random.Random(7).randbytes(2 << 20)
            files = {"bigpkg/__init__.py": b"SIZE = 2097152\\n", "bigpkg/data.bin": data,
                     "bigpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: bigpkg\\nVersion: 1.0\\n",
                     "bigpkg-1.0.dist-info/entry_points.txt": b"[console_scripts]\\nbigpkg-size = bigpkg:SIZE\\n",
                     "bigpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: cog-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            record = "".join("%s,sha256=%s,%d\\n" % (n, base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode(), len(d)) for n, d in files.items())
            files["bigpkg-1.0.dist-info/RECORD"] = (record + "bigpkg-1.0.dist-info/RECORD,,\\n").encode()
            os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                for n, d in files.items(): z.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), d)
            """
        let result = try runCommand(["python3", "-c", script, path])
        guard result.status == 0 else { throw TestSetupError("making the wheel failed: \(result.output)") }
    }

    /// A model installing bigpkg and `extra` requirements, with `files`.
    static func model(_ name: String, in dir: TemporaryDirectory, extra: [String], files: [String: String]) throws
        -> String
    {
        let requirements = (["wheels/bigpkg-1.0-py3-none-any.whl"] + extra).map { "    - \"\($0)\"" }
        try dir.write(
            "\(name)/cog.yaml",
            "build:\n  python_version: \"3.11\"\n  python_packages:\n\(requirements.joined(separator: "\n"))\npredict: \"predict.py:Predictor\"\n"
        )
        try makeBigWheel(at: "\(dir.path)/\(name)/wheels/bigpkg-1.0-py3-none-any.whl")
        try dir.write("\(name)/.dockerignore", "wheels/\n")  // installed from the artifact step, not needed in /src
        for (path, content) in files { try dir.write("\(name)/\(path)", content) }
        return "\(dir.path)/\(name)"
    }

    static let predictor = """
        from cog import BasePredictor, Input
        import bigpkg

        class Predictor(BasePredictor):
            def predict(self, name: str = Input(default="world")) -> str:
                return f"hello, {name} ({bigpkg.SIZE})"
        """

    /// Builds `project` into `out` and returns each layer's digest with its history comment.
    static func build(_ project: String, out: String, environment: [String: String]) throws -> [(
        digest: Digest, comment: String
    )] {
        let build = try runCommand(
            [cog, "build", "--oci-out", out, "--progress", "plain"], environment: environment, directory: project)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        let image = try OCILayout.open(out).image(named: "latest")
        let history = (image.configuration.history ?? []).filter { $0.emptyLayer != true }
        return zip(image.manifest.layers, history).map { ($0.0.digest, $0.1.comment ?? "") }
    }

    @Test func modelsShareThePackageLayerAndWeightsStayOutOfTheCodeLayer() throws {
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("shared-layers")
        let base = [
            "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_PACKAGE_LAYER_MIB": "1",
            "COG_WEIGHTS_LAYER_MIB": "1",
        ]
        let first = try Self.model(
            "first", in: dir, extra: ["six==1.16.0"], files: ["predict.py": Self.predictor])
        let weights = String(repeating: "w", count: 3 << 19)
        let second = try Self.model(
            "second", in: dir, extra: [],
            files: [
                "predict.py": Self.predictor + "\n# second\n", "weights/model.bin": weights, "notes.txt": "small\n",
            ])

        // MARK: the same wheel, two models, the same layer
        let a = try Self.build(
            first, out: "\(dir.path)/a", environment: base.merging(["COG_CACHE_DIR": "\(dir.path)/c1"]) { $1 })
        let b = try Self.build(
            second, out: "\(dir.path)/b", environment: base.merging(["COG_CACHE_DIR": "\(dir.path)/c2"]) { $1 })
        let packageA = a.filter { $0.comment.hasSuffix(": bigpkg 1.0") }
        let packageB = b.filter { $0.comment.hasSuffix(": bigpkg 1.0") }
        #expect(packageA.count == 1 && packageB.count == 1, "\(a.map(\.comment))")
        #expect(packageA.first?.digest == packageB.first?.digest, "the package layer is byte-identical")
        #expect(!a.contains { $0.comment.contains("six") }, "small distributions stay in the step's first layer")

        // MARK: what the package layer holds, and the image as a whole
        let blob = "\(dir.path)/b/blobs/sha256/\(try #require(packageB.first).digest.encoded)"
        let listing = try runCommand(["bsdtar", "-tf", blob]).stdout
        #expect(listing.contains("/bigpkg/data.bin"), "\(listing)")
        #expect(listing.contains("usr/local/bin/bigpkg-size"), "the console script belongs to its distribution")
        #expect(!listing.contains("RECORD") && !listing.contains("direct_url.json") && !listing.contains("INSTALLER"))
        let validate = try runCommand([
            "oci-image-tool", "validate", "--type", "image", "--ref", "name=latest", "\(dir.path)/b",
        ])
        #expect(validate.status == 0, "\(validate.output)")
        let unpack = try runCommand(["umoci", "unpack", "--image", "\(dir.path)/b:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        let record = try runCommand(["find", "\(dir.path)/bundle/rootfs/usr", "-path", "*/bigpkg-1.0.dist-info/RECORD"])
        #expect(!record.stdout.isEmpty, "RECORD is in the image, in the step's first layer")

        // MARK: weights before the code; a code edit changes only the code layer
        let weightsIndex = try #require(b.firstIndex { $0.comment.hasSuffix("weights weights/model.bin") })
        let codeIndex = b.count - 2  // the schema layer is the last
        #expect(weightsIndex < codeIndex, "\(b.map(\.comment))")
        try dir.write("second/predict.py", Self.predictor + "\n# edited\n")
        let edited = try Self.build(
            second, out: "\(dir.path)/b2", environment: base.merging(["COG_CACHE_DIR": "\(dir.path)/c2"]) { $1 })
        #expect(edited.count == b.count)
        let changed = zip(b, edited).enumerated().filter { $0.element.0.digest != $0.element.1.digest }.map(\.offset)
        #expect(changed == [codeIndex], "only the code layer changes (the schema is the same): \(changed)")

        // MARK: the snapshot method cuts the same package layer
        let snapshot = try Self.build(
            first, out: "\(dir.path)/a-snapshot",
            environment: base.merging(["COG_CACHE_DIR": "\(dir.path)/c3", "COG_CAPTURE": "snapshot"]) { $1 })
        #expect(snapshot.first { $0.comment.hasSuffix(": bigpkg 1.0") }?.digest == packageA.first?.digest)
    }
}
