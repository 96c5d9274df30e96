import OCI

/// Why a build failed, in words a person acts on.
public enum BuildError: Error, CustomStringConvertible {
    case stepFailed(step: String, status: Int32, lastLines: [String])
    case stepTimedOut(step: String)
    case secretSyntax(String, problem: String)
    case secretUnreadable(id: String, cause: SystemCallError)
    /// A step whose mount says `required: true` lacks its secret.
    case missingSecret(id: String, step: String, why: MissingSecret)
    /// A package archive the requirements name cannot be read.
    case artifactUnreadable(path: String, cause: SystemCallError)
    /// cog.yaml names no predictor, so there is no schema to generate.
    case noPredictor
    /// The schema generator script is not installed beside cog.
    case schemaGeneratorMissing
    /// The generator printed something that is not JSON.
    case schemaNotJSON(output: String)
    case schemaFileUnreadable(path: String, cause: SystemCallError)
    case schemaFileNotObject(path: String)
    /// The schema could not be written into the mounted project's `.cog`.
    case schemaNotWritten(path: String, cause: SystemCallError)
    case interrupted
    /// Neither a user namespace nor a mount namespace can be made, and cog does not run as root.
    case noIsolationPossible
    /// A step's layer was still being written when the image was assembled (a bug in cog).
    case layerNotSettled

    /// Why a secret a step mounts is not there.
    public enum MissingSecret: Error, Sendable, Equatable, CustomStringConvertible {
        case notGiven
        case variableUnset(String)

        public var description: String {
            switch self {
            case .notGiven: "no --secret gives it"
            case .variableUnset(let name): "its --secret names the environment variable \(name), which is not set"
            }
        }
    }

    public var description: String {
        switch self {
        case .stepFailed(let step, let status, let lastLines):
            let tail = lastLines.isEmpty ? "" : "\nlast output:\n" + lastLines.map { "  \($0)" }.joined(separator: "\n")
            return "step \"\(step)\" failed with exit code \(status)\(tail)"
        case .stepTimedOut(let step):
            return "step \"\(step)\" ran past its time limit and was stopped"
        case .secretSyntax(let text, let problem):
            return "--secret \"\(text)\": \(problem)"
        case .secretUnreadable(let id, let cause):
            return "secret \"\(id)\": cannot read \(cause.path ?? "the file"): \(cause.reason)"
        case .missingSecret(let id, let step, let why):
            return
                "step \"\(step)\" needs the secret \"\(id)\" (its mount is required), but \(why): pass --secret id=\(id),src=PATH or --secret id=\(id),env=VARIABLE"
        case .artifactUnreadable(let path, let cause):
            return "cannot read \(path), named in the requirements: \(cause.reason)"
        case .noPredictor:
            return
                "could not generate the OpenAPI schema: cog.yaml names no predictor (predict: \"predict.py:Predictor\")"
        case .schemaGeneratorMissing:
            return "could not generate the OpenAPI schema: the generator is missing from this installation of cog"
        case .schemaNotJSON(let output):
            return
                "could not generate the OpenAPI schema: the generator printed something that is not JSON:\n\(output.suffix(2000))"
        case .schemaFileUnreadable(let path, let cause):
            return "--openapi-schema \(path): cannot read the file (\(cause.reason))"
        case .schemaNotWritten(let path, let cause):
            return
                "cannot write the OpenAPI schema to \(path), where the runtime reads it through the /src mount (\(cause.reason)); make the project's .cog a writable directory"
        case .schemaFileNotObject(let path):
            return "--openapi-schema \(path): not a JSON object (give the schema cog serves at /openapi.json)"
        case .noIsolationPossible:
            return
                "no user namespace and no mount namespace can be made here, and without them only root can run steps (with chroot): run cog as root in this container, or allow user namespaces (user.max_user_namespaces, the seccomp profile)"
        case .interrupted:
            return "interrupted; the steps that finished are cached for the next build"
        case .layerNotSettled:
            return "internal error: a step's layer was not finished when the image was assembled; please report this"
        }
    }
}
