/// Why a cog.yaml cannot be built: every error found in it, reported at once.
///
/// `description` is the full text a person reads: each error as `cog.yaml:LINE:COLUMN: message`, the quoted
/// line with a caret under the spot, and a hint saying how to fix it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    var diagnostics: [ConfigDiagnostic]

    /// An error that concerns a file as a whole (missing, unreadable), with no position.
    static func file(_ file: String, _ message: String, hint: String? = nil) -> ConfigError {
        ConfigError(diagnostics: [ConfigDiagnostic(severity: .error, file: file, message: message, hint: hint)])
    }

    public var description: String {
        let errors = diagnostics.filter { $0.severity == .error }
        var text = errors.map(\.description).joined(separator: "\n\n")
        if errors.count > 1 {
            let files = Set(errors.map(\.file)).sorted().joined(separator: " and ")
            text += "\n\n\(errors.count) errors in \(files)"
        }
        return text
    }
}
