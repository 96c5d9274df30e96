/// One problem `cog doctor` found, as Cog's doctor reports it: how bad, what, how to fix it, and where.
public struct DoctorFinding: Sendable, Equatable {
    /// Ordered from worst to mildest, as Cog orders them.
    public enum Severity: Int, Sendable, Comparable {
        /// Will make a build or prediction fail.
        case error
        /// A deprecated pattern, future breakage.
        case warning
        case info

        public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
    }

    public let severity: Severity
    public let message: String
    public let remediation: String
    /// The file, relative to the project; nil when the finding concerns no file.
    public let file: String?
    /// 1-based; nil when unknown.
    public let line: Int?

    init(_ severity: Severity, _ message: String, remediation: String, file: String? = nil, line: Int? = nil) {
        self.severity = severity
        self.message = message
        self.remediation = remediation
        self.file = file
        self.line = line
    }
}

/// What one check of `cog doctor` found, and whether `--fix` fixed it.
public struct DoctorResult: Sendable {
    public let check: DoctorCheck
    public let findings: [DoctorFinding]
    /// `--fix` applied the check's fix; the findings are what it fixed.
    public let fixed: Bool
    /// Why the fix could not be applied (a check without one has no error here: it is reported as such).
    public let fixError: String?
}

/// The checks of Cog's doctor (`pkg/doctor/registry.go`) that apply to a daemonless cog, in its order. Docker's
/// check has no counterpart (nothing here needs Docker); host Python and GPU checks are left out.
public enum DoctorCheck: String, Sendable, CaseIterable {
    case configParse = "config-parse"
    case configSchema = "config-schema"
    case predictToRun = "predict-to-run-migration"
    case deprecatedFields = "config-deprecated-fields"
    case predictReference = "config-predict-ref"
    case deprecatedImports = "python-deprecated-imports"
    case pydanticBaseModel = "python-pydantic-basemodel"
    case typeAnnotations = "python-type-annotations"

    public enum Group: String, Sendable {
        case config = "Config"
        case python = "Python"
    }

    public var group: Group {
        switch self {
        case .configParse, .configSchema, .predictToRun, .deprecatedFields, .predictReference: .config
        case .deprecatedImports, .pydanticBaseModel, .typeAnnotations: .python
        }
    }

    /// The line Cog prints for the check.
    public var description: String {
        switch self {
        case .configParse: "Config parsing"
        case .configSchema: "Config schema"
        case .predictToRun: "Deprecated predict interface names"
        case .deprecatedFields: "Deprecated fields"
        case .predictReference: "Predict reference"
        case .deprecatedImports: "Deprecated imports"
        case .pydanticBaseModel: "Pydantic BaseModel workaround"
        case .typeAnnotations: "Type annotations"
        }
    }

    /// Whether `--fix` can fix what the check finds.
    public var fixable: Bool { [.predictToRun, .deprecatedImports, .pydanticBaseModel].contains(self) }
}
