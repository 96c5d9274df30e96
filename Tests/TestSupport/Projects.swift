import Foundation

/// A temporary project folder holding `cog.yaml` (when given), `files`, and, unless `predictors` is false, empty
/// predictor files for the names tests use (predict.py, run.py, train.py, model.py, infer.py).
public func makeProject(_ yaml: String?, files: [String: String] = [:], predictors: Bool = true) throws
    -> TemporaryDirectory
{
    let directory = try TemporaryDirectory("cog-config")
    if let yaml { try directory.write("cog.yaml", yaml) }
    if predictors, yaml != nil {
        for name in ["predict.py", "run.py", "train.py", "model.py", "infer.py"] { try directory.write(name, "") }
    }
    for (name, contents) in files { try directory.write(name, contents) }
    return directory
}

/// The built `cog` executable beside the test bundle.
public func cogExecutable() throws -> String {
    let candidates = [Bundle.main.bundleURL.appendingPathComponent("cog").path, "\(packageRoot)/.build/debug/cog"]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw TestSetupError("the cog executable was not built (looked in \(candidates.joined(separator: ", ")))")
    }
    return found
}

/// A throwaway self-signed certificate made with openssl; returns its PEM text (`<name>.crt`, `<name>.key` in `dir`).
public func makeCertificate(in dir: TemporaryDirectory, name: String = "ca", subject: String? = nil) throws -> String {
    let result = try runCommand([
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
        subject ?? "/CN=cog-test-\(name)",
        "-keyout", "\(dir.path)/\(name).key", "-out", "\(dir.path)/\(name).crt",
    ])
    guard result.status == 0 else { throw TestSetupError("openssl: \(result.output)") }
    return try String(contentsOfFile: "\(dir.path)/\(name).crt", encoding: .utf8)
}
