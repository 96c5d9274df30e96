import OCI

/// Why a prediction could not be made, in words a person acts on.
public enum PredictError: Error, CustomStringConvertible {
    case inputSyntax(String)
    case inputFileUnreadable(path: String)
    case jsonUnreadable(path: String)
    case jsonInvalid(source: String, detail: String)
    case jsonNotObject(source: String)
    case serverExited(log: [String])
    case setupFailed(status: String, log: [String])
    case notReady(seconds: Int, log: [String])
    case noFreePort(SystemCallError)
    /// The server answered something that is not a prediction.
    case notAPrediction(status: Int, body: String)
    /// The runtime's input validation refused the inputs (HTTP 422): each location and message.
    case refusedInputs([(location: String, message: String)])
    case predictionFailed(httpStatus: Int, status: String?, detail: String)

    public var description: String {
        switch self {
        case .inputSyntax(let item):
            return "input \"\(item)\" must be name=value or name=@file"
        case .inputFileUnreadable(let path):
            return "cannot read input file \(path)"
        case .jsonUnreadable(let path):
            return "--json: cannot read \(path)"
        case .jsonInvalid(let source, let detail):
            return "--json: \(source) is not valid JSON (\(detail))"
        case .jsonNotObject(let source):
            return "--json: \(source) must be a JSON object of inputs, such as {\"prompt\": \"hello\"}"
        case .serverExited(let log):
            return "the model's server exited before it was ready:\n" + Self.indent(log)
        case .setupFailed(let status, let log):
            return "the model's setup() failed (\(status)):\n" + Self.indent(log)
        case .notReady(let seconds, let log):
            return "the model's server was not ready after \(seconds) s; last output:\n" + Self.indent(log)
        case .noFreePort(let cause):
            return "cannot find a free port on 127.0.0.1: \(cause)"
        case .notAPrediction(let status, let body):
            return "the model answered HTTP \(status): \(body)"
        case .refusedInputs(let details):
            return "the model refused the inputs:\n"
                + details.map { "  \($0.location): \($0.message)" }.joined(separator: "\n")
        case .predictionFailed(let httpStatus, let status, let detail):
            return "the prediction failed (HTTP \(httpStatus), \(status ?? "no status")): \(detail)"
        }
    }

    private static func indent(_ lines: [String]) -> String { lines.map { "  \($0)" }.joined(separator: "\n") }
}
