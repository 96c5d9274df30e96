import OCI

/// Why a prediction could not be made, in words a person acts on.
public enum PredictError: Error, CustomStringConvertible {
    case inputSyntax(String)
    /// No namespace or mount can be made here (chroot isolation builds, but cannot serve a model).
    case needsNamespaces
    case inputFileUnreadable(path: String)
    case jsonUnreadable(path: String)
    case jsonInvalid(source: String, detail: String)
    case jsonNotObject(source: String)
    /// The server ended before it was ready; `reason` is the runtime's last error record.
    case serverExited(reason: String?, log: [String])
    /// `setup()` raised: the runtime's error and the setup's output.
    case setupFailed(status: String, reason: String?, log: [String])
    /// `setup()` did not finish within the time allowed (`--setup-timeout`); the server was stopped.
    case notReady(seconds: Double, log: [String])
    case noFreePort(SystemCallError)
    /// The server answered something that is not a prediction.
    case notAPrediction(status: Int, body: String)
    /// The runtime's input validation refused the inputs (HTTP 422): each location and message.
    case refusedInputs([(location: String, message: String)])
    case predictionFailed(httpStatus: Int, status: String?, detail: String)
    /// Inputs the model's schema does not declare (and the ones it does).
    case unknownInputs([String], valid: [String])
    /// Inputs the model's schema refuses, each in Cog's words (`invalid input "count": …`, `missing required input
    /// "prompt"`).
    case invalidInputs([String])
    /// A file output is not a base64 data URL.
    case notADataURL(path: String)

    public var description: String {
        switch self {
        case .needsNamespaces:
            return
                "cannot run the model here: no user or mount namespace can be made (a container without CAP_SYS_ADMIN under a default seccomp profile), and a served model needs them; builds and pushes work here, predictions need a machine or a pod that allows user namespaces"
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
        case .serverExited(let reason, let log):
            return "the model's server exited before it was ready\(reason.map { ": \($0)" } ?? ""); last output:\n"
                + Self.indent(log)
        case .setupFailed(let status, let reason, let log):
            return "the model's setup() failed (\(status))\(reason.map { ": \($0)" } ?? ""); its output:\n"
                + Self.indent(log)
        case .notReady(let seconds, let log):
            return
                "the model's setup() did not finish within \(String(format: "%g", seconds)) s (--setup-timeout); the model was stopped. Last output:\n"
                + Self.indent(log)
        case .noFreePort(let cause):
            return "cannot find a free port on 127.0.0.1: \(cause)"
        case .notAPrediction(let status, let body):
            return "the model answered HTTP \(status): \(body)"
        case .refusedInputs(let details):
            return "the model refused the inputs:\n"
                + details.map { "  \($0.location): \($0.message)" }.joined(separator: "\n")
        case .predictionFailed(let httpStatus, let status, let detail):
            return "the prediction failed (HTTP \(httpStatus), \(status ?? "no status")): \(detail)"
        case .unknownInputs(let names, let valid):
            let suffix =
                valid.isEmpty ? "model does not accept inputs" : "valid inputs are: \(valid.joined(separator: ", "))"
            let quoted = names.map { "\"\($0)\"" }.joined(separator: ", ")
            return "unknown input\(names.count == 1 ? "" : "s") \(quoted); \(suffix)"
        case .invalidInputs(let lines):
            return lines.count == 1 ? lines[0] : "input validation failed:\n- " + lines.joined(separator: "\n- ")
        case .notADataURL(let path):
            return "the output for \(path) is not a base64 data URL (data:<type>;base64,…); nothing usable was written"
        }
    }

    private static func indent(_ lines: [String]) -> String { lines.map { "  \($0)" }.joined(separator: "\n") }
}
