/// Why a build failed, in words a person acts on.
enum BuildError: Error, CustomStringConvertible {
    case stepFailed(step: String, status: Int32, lastLines: [String])
    case stepTimedOut(step: String)
    case secret(id: String, problem: String)
    case missingSecret(id: String, step: String)
    case output(String)
    case schema(String)
    case interrupted

    var description: String {
        switch self {
        case let .stepFailed(step, status, lastLines):
            let tail = lastLines.isEmpty ? "" : "\nlast output:\n" + lastLines.map { "  \($0)" }.joined(separator: "\n")
            return "step \"\(step)\" failed with exit code \(status)\(tail)"
        case let .stepTimedOut(step):
            return "step \"\(step)\" ran past its time limit and was stopped"
        case let .secret(id, problem):
            return "secret \"\(id)\": \(problem)"
        case let .missingSecret(id, step):
            return "step \"\(step)\" mounts the secret \"\(id)\", but none was given: pass --secret id=\(id),src=PATH"
        case let .output(message):
            return message
        case let .schema(message):
            return "could not generate the OpenAPI schema: \(message)"
        case .interrupted:
            return "interrupted; the steps that finished are cached for the next build"
        }
    }
}
