import OCI

/// Why a build failed, in words a person acts on.
public enum BuildError: Error, CustomStringConvertible {
    case stepFailed(step: String, status: Int32, lastLines: [String])
    case stepTimedOut(step: String)
    case secretSyntax(String, problem: String)
    case secretUnreadable(id: String, cause: SystemCallError)
    case secretVariableUnset(id: String, variable: String)
    case missingSecret(id: String, step: String)
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
    case interrupted
    /// A step's layer was still being written when the image was assembled (a bug in cog).
    case layerNotSettled

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
        case .secretVariableUnset(let id, let variable):
            return "secret \"\(id)\": the environment variable \(variable) is not set"
        case .missingSecret(let id, let step):
            return "step \"\(step)\" mounts the secret \"\(id)\", but none was given: pass --secret id=\(id),src=PATH"
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
        case .schemaFileNotObject(let path):
            return "--openapi-schema \(path): not a JSON object (give the schema cog serves at /openapi.json)"
        case .interrupted:
            return "interrupted; the steps that finished are cached for the next build"
        case .layerNotSettled:
            return "internal error: a step's layer was not finished when the image was assembled; please report this"
        }
    }
}
