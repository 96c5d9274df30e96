import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// `--secret` in Cog's forms (buildx's), and secret mounts as BuildKit treats them: optional unless required.
@Suite struct BuildSecretTests {
    @Test(arguments: [
        ("id=tok,src=token.txt", BuildSecret.Source.file("/project/token.txt")),
        ("id=tok,source=/abs/token", .file("/abs/token")),
        ("ID=tok,SRC=sub/../t", .file("/project/sub/../t")),
        ("id=tok,env=TOKEN", .environment("TOKEN")),
        ("type=env,id=tok", .environment("tok")),
        ("type=env,id=tok,src=HF_TOKEN", .environment("HF_TOKEN")),
        ("type=file,id=tok,src=t", .file("/project/t")),
        ("id=tok", .file("/project/tok")),
    ])
    func forms(text: String, source: BuildSecret.Source) throws {
        let secret = try BuildSecret(parsing: text, relativeTo: "/project")
        #expect(secret.id == "tok")
        #expect(secret.source == source)
    }

    @Test(arguments: [
        ("id=tok,src", "field \"src\" must be a key=value pair"),
        ("id=tok,mode=0400", "unexpected key \"mode\""),
        ("type=ssh,id=tok", "unsupported secret type \"ssh\""),
        ("src=token.txt", "it needs id=NAME"),
    ])
    func mistakes(text: String, problem: String) {
        #expect(throws: BuildError.self) { try BuildSecret(parsing: text, relativeTo: "/p") }
        do {
            _ = try BuildSecret(parsing: text, relativeTo: "/p")
        } catch {
            #expect("\(error)".contains(problem), "\(error)")
        }
    }

    @Test func variablesAndFilesResolve() throws {
        let dir = try TemporaryDirectory()
        try dir.write("tok", "from the file")
        let scratch = try TemporaryDirectory()
        // `id=tok` alone: the variable named like the id when set, else the file (BuildKit's store).
        let byVariable = try BuildSecret(parsing: "id=tok", relativeTo: dir.path).resolved(in: ["tok": "from env"])
        #expect(byVariable.source == .value(Array("from env".utf8)))
        let byFile = try BuildSecret(parsing: "id=tok", relativeTo: dir.path).resolved(in: [:])
        #expect(byFile.source == .file("\(dir.path)/tok"))
        // A variable that is not set leaves the secret unavailable (as BuildKit finds no secret), not an error.
        let unset = try BuildSecret(parsing: "id=tok,env=NOT_SET", relativeTo: dir.path).resolved(in: [:])
        #expect(try unset.materialize(in: scratch.path) == .failure(.variableUnset("NOT_SET")))
        let value = try BuildSecret(parsing: "id=tok,env=SET", relativeTo: dir.path).resolved(in: ["SET": "v"])
        let path = try value.materialize(in: scratch.path).get()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "v")
        // A file that cannot be read is an error up front.
        #expect(throws: BuildError.self) {
            try BuildSecret(parsing: "id=tok,src=missing", relativeTo: dir.path).resolved(in: [:])
        }
    }

    @Test func requiredIsBuildKitsFlagAndKeysTheStep() throws {
        let yaml = """
            build:
              python_version: "3.11"
              run:
                - command: cat /etc/a
                  mounts: [{type: secret, id: a, target: /etc/a}]
                - command: cat /etc/b
                  mounts: [{type: secret, id: b, target: /etc/b, required: true}]
                - --mount=type=secret,id=c,required=true cat /run/secrets/c
            predict: "predict.py:P"
            """
        let plan = try plan(yaml)
        let runs = runSteps(plan).suffix(3)
        #expect(
            runs.map(\.mounts) == [
                [.secret(id: "a", target: "/etc/a", required: false)],
                [.secret(id: "b", target: "/etc/b", required: true)],
                [.secret(id: "c", target: "/run/secrets/c", required: true)],
            ])
        let dockerfile = plan.dockerfile()
        #expect(dockerfile.contains("RUN --mount=type=secret,id=a,target=/etc/a cat /etc/a\n"))
        #expect(dockerfile.contains("RUN --mount=type=secret,id=b,target=/etc/b,required=true cat /etc/b\n"))
        // The key holds the mount's definition (required or not), never whether a secret was given.
        let keys = plan.steps.suffix(from: plan.steps.count - 3).map(\.cacheKeyMaterial)
        #expect(keys.allSatisfy { !$0.contains("from the file") })
        let optional = BuildStep.run(
            RunStep(command: "c", mounts: [.secret(id: "a", target: "/a", required: false)], summary: ""))
        let required = BuildStep.run(
            RunStep(command: "c", mounts: [.secret(id: "a", target: "/a", required: true)], summary: ""))
        #expect(optional.cacheKeyMaterial != required.cacheKeyMaterial)
        #expect(try errorMessages(yaml.replacingOccurrences(of: "required: true", with: "required: maybe")).count == 1)
    }
}
