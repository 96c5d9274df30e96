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
        case let .inputSyntax(item):
            return "input \"\(item)\" must be name=value or name=@file"
        case let .inputFileUnreadable(path):
            return "cannot read input file \(path)"
        case let .jsonUnreadable(path):
            return "--json: cannot read \(path)"
        case let .jsonInvalid(source, detail):
            return "--json: \(source) is not valid JSON (\(detail))"
        case let .jsonNotObject(source):
            return "--json: \(source) must be a JSON object of inputs, such as {\"prompt\": \"hello\"}"
        case let .serverExited(log):
            return "the model's server exited before it was ready:\n" + Self.indent(log)
        case let .setupFailed(status, log):
            return "the model's setup() failed (\(status)):\n" + Self.indent(log)
        case let .notReady(seconds, log):
            return "the model's server was not ready after \(seconds) s; last output:\n" + Self.indent(log)
        case let .noFreePort(cause):
            return "cannot find a free port on 127.0.0.1: \(cause)"
        case let .notAPrediction(status, body):
            return "the model answered HTTP \(status): \(body)"
        case let .refusedInputs(details):
            return "the model refused the inputs:\n" + details.map { "  \($0.location): \($0.message)" }.joined(separator: "\n")
        case let .predictionFailed(httpStatus, status, detail):
            return "the prediction failed (HTTP \(httpStatus), \(status ?? "no status")): \(detail)"
        }
    }

    private static func indent(_ lines: [String]) -> String { lines.map { "  \($0)" }.joined(separator: "\n") }
}
