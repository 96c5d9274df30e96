import Foundation
import OCI
import TestSupport
import Testing

/// Secrets as BuildKit treats them, and the build context as BuildKit sends it, through the `cog` binary.
@Suite(.serialized) struct SecretsAndContextTests {
    static let secretStep = """
        build:
          python_version: "3.11"
          run:
            - command: echo "secret says $(cat /run/secrets/tok 2>/dev/null || echo nothing)"
              mounts:
                - type: secret
                  id: tok
                  target: /run/secrets/tok
        predict: "predict.py:Predictor"

        """

    @Test func predictReusesWhatBuildWithASecretBuiltAndAMissingSecretIsOptional() throws {
        let scene = try Scene("secrets")
        let project = try scene.project(
            "model", Self.secretStep, files: ["token.txt": "from-the-file", ".dockerignore": "token.txt\n"])

        // MARK: Cog's --secret forms: a path relative to the project, a variable
        let built = try scene.cog(["build", "--secret", "id=tok,src=token.txt", "--progress", "plain"], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        #expect(built.stderr.contains("secret says from-the-file"))
        let byVariable = try scene.cog(
            ["build", "--no-cache", "--secret", "type=env,id=tok,src=TOK_VALUE", "--progress", "plain"], in: project,
            extra: ["TOK_VALUE": "from-the-variable"])
        #expect(byVariable.stderr.contains("secret says from-the-variable"), "\(byVariable.stderr.suffix(2000))")

        // MARK: predict builds without secrets: the step is cached, so no error and no warning
        let predicted = try scene.cog(["predict", "--progress", "plain"], in: project)
        #expect(predicted.status == 0, "\(predicted.stderr.suffix(3000))")
        #expect(predicted.stdout == "ok\n")
        #expect(
            predicted.stderr.split(separator: "\n").contains {
                $0.contains("RUN echo \"secret says") && $0.hasSuffix("(cached)")
            },
            "\(predicted.stderr.suffix(2000))")
        #expect(!predicted.stderr.contains("not mounted"))

        // MARK: run again without the secret: not mounted, one warning, the step runs
        let without = try scene.cog(["build", "--no-cache", "--progress", "plain"], in: project)
        #expect(without.status == 0, "\(without.stderr.suffix(3000))")
        #expect(without.stderr.contains("secret says nothing"))
        let warnings = without.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: secret \"tok\"") }
        #expect(
            warnings == [
                "warning: secret \"tok\" is not mounted in this step: no --secret gives it (the mount is optional; required: true makes it an error)"
            ])
        let unset = try scene.cog(["build", "--no-cache", "--secret", "id=tok,env=NOT_SET_ANYWHERE"], in: project)
        #expect(unset.stderr.contains("its --secret names the environment variable NOT_SET_ANYWHERE, which is not set"))

        // MARK: required: true makes a missing secret an error (and keys the step anew)
        try scene.dir.write(
            "model/cog.yaml",
            Self.secretStep.replacingOccurrences(
                of: "target: /run/secrets/tok", with: "target: /run/secrets/tok\n          required: true"))
        let required = try scene.cog(["build"], in: project)
        #expect(required.status == 1)
        #expect(
            required.stderr.contains("needs the secret \"tok\" (its mount is required), but no --secret gives it"),
            "\(required.stderr.suffix(1000))")
        let debug = try scene.cog(["debug"], in: project)
        #expect(debug.stdout.contains("--mount=type=secret,id=tok,target=/run/secrets/tok,required=true"))
        let missingFile = try scene.cog(["build", "--secret", "id=tok,src=nope.txt"], in: project)
        #expect(missingFile.stderr.contains("model/nope.txt: No such file or directory"), "\(missingFile.stderr)")
    }

    @Test func theContextLeavesOutCogsCacheAndKeepsExceptionsInsideExcludedDirectories() throws {
        var scene = try Scene("context")
        let project = try scene.project(
            "checkout", "build:\n  python_version: \"3.11\"\npredict: \"predict.py:Predictor\"\n",
            files: [
                ".dockerignore": "data\n!data/keep.txt\nweights/*\n!weights/config.json\n",
                "data/keep.txt": "kept\n", "data/drop.txt": "dropped\n", "data/sub/deep.txt": "dropped\n",
                "weights/model.bin": "big\n", "weights/config.json": "{}\n", ".cache/pip/own.txt": "the user's\n",
            ])
        // A CI job whose HOME is the checkout: the cache lies inside the project being copied.
        scene.environment["COG_CACHE_DIR"] = nil
        scene.environment["HOME"] = project
        let built = try scene.cog(["build", "--oci-out", "\(scene.dir.path)/out", "--progress", "plain"], in: project)
        #expect(built.status == 0, "\(built.stderr.suffix(3000))")
        #expect(FileManager.default.fileExists(atPath: "\(project)/.cache/cog/blobs"))
        let unpack = try runCommand([
            "umoci", "unpack", "--image", "\(scene.dir.path)/out:latest", "\(scene.dir.path)/bundle",
        ])
        #expect(unpack.status == 0, "\(unpack.output)")
        let src = "\(scene.dir.path)/bundle/rootfs/src"
        let listed = try runCommand(["find", ".", "-mindepth", "1"], directory: src).stdout.split(separator: "\n").map(
            String.init
        ).sorted()
        #expect(
            listed == [
                "./.cache", "./.cache/pip", "./.cache/pip/own.txt", "./.cog", "./.cog/openapi_schema.json",
                "./.dockerignore", "./cog.yaml", "./data", "./data/keep.txt", "./predict.py", "./weights",
                "./weights/config.json",
            ], "\(listed)")
    }
}
