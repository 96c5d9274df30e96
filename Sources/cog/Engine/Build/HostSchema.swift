import Foundation

/// The project's OpenAPI schema made on the host before anything is built, so that `cog predict`, `run` and `train`
/// refuse wrong inputs first, as Cog does with its static schema (`pkg/schema`). The static script the build runs
/// in the image (`Data/openapi_schema_static.py`) reads the predictor's source with the host's Python, told the
/// image's Python and cog versions: the same script and arguments, so the same bytes as the image's schema whenever
/// the image's comes from that script. What it cannot decide (an import, a computed type, a cog it does not mirror)
/// leaves the check to after the build, against the schema the build makes.
public enum HostSchema {
    /// The schema the build will make for `plan` (the trainer's merged in under Cog's training names), or nil when
    /// it cannot be told here.
    /// - Parameters:
    ///   - python: the host's `python3`, found on the caller's search path; nil: no schema before the build.
    ///   - schemaFile: `--openapi-schema`, which the build uses as it is.
    public static func generate(plan: BuildPlan, projectDirectory: String, python: String?, schemaFile: String?)
        -> String?
    {
        if let schemaFile { return try? CogFinishing.readSchema(schemaFile) }
        guard let python, let predictor = plan.predictor, !predictor.isEmpty,
            plan.config.runtime.requirement.hasPrefix("cog=="),
            let script = try? CogFinishing.script("openapi_schema_static"),
            let predict = run(script, predictor, plan: plan, in: projectDirectory, python: python)
        else { return nil }
        // As the build: a trainer without a schema costs `cog train` its checks, not the prediction's.
        guard let trainer = plan.trainer, !trainer.isEmpty,
            let train = run(script, trainer, plan: plan, in: projectDirectory, python: python)
        else { return predict }
        return (try? TrainingSchema.merge(predict: predict, train: train)) ?? predict
    }

    /// The script's schema for `reference`, or nil when it falls back (exit status 3), refuses (4, which the build
    /// reports), fails, or takes more than ten seconds.
    private static func run(
        _ script: String, _ reference: String, plan: BuildPlan, in directory: String, python: String
    )
        -> String?
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        // -I: neither the project's folder nor PYTHON* variables reach sys.path, so no module of the project (a
        // json.py, an ast.py) is imported on the host; the script only parses the source.
        process.arguments = ["-I", "-c", script, reference, plan.schemaVersion]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = [
            "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "COG_SCHEMA_PYTHON": plan.pythonVersion,
            "COG_SCHEMA_COG": plan.config.runtime.version,
        ]
        guard let json = QuietProcess.output(of: process, timeout: 10) else { return nil }
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) is [String: Any] else { return nil }
        return json
    }
}

extension BuildPlan {
    /// The schema's `info.version`: as in Cog, the image's `run.cog.version` label.
    var schemaVersion: String { image.labels[Label.version] ?? config.runtime.version }
}
