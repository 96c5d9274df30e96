import Foundation

extension Doctor {
    /// Imports Cog's doctor reports (`check_python_deprecated_imports.go`): module, name, why.
    static let deprecatedImports = [
        (
            module: "cog.types", name: "ExperimentalFeatureWarning",
            message:
                "ExperimentalFeatureWarning was removed in cog 0.17; current_scope().record_metric() is no longer experimental"
        )
    ]

    /// The Python files cog.yaml names (predictor and trainer), relative to the project, that exist.
    var pythonFiles: [String] {
        let (predict, train) = references
        let files = [predict, train].compactMap { $0?.split(separator: ":").first.map(String.init) }
        return Array(Set(files)).sorted().filter { source($0) != nil }
    }

    /// `from MODULE import a, b as c` → (MODULE, [(a, "a"), (b, "b as c")]); nil for other statements.
    static func fromImport(_ statement: String) -> (module: String, names: [(name: String, text: String)])? {
        let flat = statement.replacingOccurrences(of: "\\\n", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard let match = flat.range(of: #"^from\s+([\w.]+)\s+import\s+"#, options: .regularExpression) else {
            return nil
        }
        let module = flat[match].split(whereSeparator: \.isWhitespace)[1]
        var rest = String(flat[match.upperBound...])
        if let comment = rest.firstIndex(of: "#") { rest = String(rest[..<comment]) }
        rest = rest.trimmingCharacters(in: CharacterSet(charactersIn: " ()"))
        let names = rest.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { text in (name: String(text.split(separator: " ")[0]), text: text) }
        return (String(module), names)
    }

    func deprecatedImportFindings() -> [DoctorFinding] {
        pythonFiles.flatMap { file -> [DoctorFinding] in
            guard let source = source(file) else { return [] }
            return source.topLevel.flatMap { statement -> [DoctorFinding] in
                guard let (module, names) = Self.fromImport(statement.text) else { return [] }
                return Self.deprecatedImports.filter { deprecated in
                    deprecated.module == module && names.contains { $0.name == deprecated.name }
                }.map {
                    DoctorFinding(
                        .error, $0.message, remediation: "Remove the import of \($0.name) from \($0.module)",
                        file: file,
                        line: statement.first + 1)
                }
            }
        }
    }

    /// Drops the deprecated names from their imports, the top-level statements using them, and then the imports
    /// only those statements used (`import warnings` for a `warnings.filterwarnings(…)` line).
    func removeDeprecatedImports() throws {
        for file in pythonFiles {
            guard var source = source(file) else { continue }
            var removed = Set<String>()
            var dropped: [PythonSource.Statement] = []
            var replacements: [(PythonSource.Statement, String?)] = []
            for statement in source.topLevel {
                guard let (module, names) = Self.fromImport(statement.text) else { continue }
                let gone = names.filter { name in
                    Self.deprecatedImports.contains { $0.module == module && $0.name == name.name }
                }
                guard !gone.isEmpty else { continue }
                removed.formUnion(gone.map(\.name))
                let kept = names.filter { name in !gone.contains { $0.name == name.name } }
                replacements.append(
                    (
                        statement,
                        kept.isEmpty ? nil : "from \(module) import \(kept.map(\.text).joined(separator: ", "))"
                    ))
            }
            guard !removed.isEmpty else { continue }
            for statement in source.topLevel where Self.fromImport(statement.text) == nil {
                guard !statement.text.hasPrefix("import "), !statement.text.hasPrefix("class "),
                    !statement.text.hasPrefix("def "),
                    removed.contains(where: { PythonSource.uses(statement.text, $0) })
                else { continue }
                replacements.append((statement, nil))
                dropped.append(statement)
            }
            source = Self.replacing(replacements, in: source)
            // Imports the dropped statements used and nothing else uses any more.
            var orphans: [(PythonSource.Statement, String?)] = []
            for statement in source.topLevel where statement.text.hasPrefix("import ") {
                let module = statement.text.dropFirst(7).trimmingCharacters(in: .whitespaces)
                guard module.range(of: #"^[\w.]+$"#, options: .regularExpression) != nil,
                    dropped.contains(where: { PythonSource.uses($0.text, module) })
                else { continue }
                let others = source.lines.enumerated().filter { $0.offset != statement.first }.map(\.element)
                if !others.contains(where: { PythonSource.uses($0, module) }) { orphans.append((statement, nil)) }
            }
            source = Self.replacing(orphans, in: source)
            try write(source.text, to: file)
        }
    }

    /// `source` with each statement replaced by a line, or removed (nil), bottom up.
    static func replacing(_ edits: [(PythonSource.Statement, String?)], in source: PythonSource) -> PythonSource {
        var source = source
        for (statement, replacement) in edits.sorted(by: { $0.0.first > $1.0.first }) {
            source.lines.replaceSubrange(statement.first...statement.last, with: replacement.map { [$0] } ?? [])
        }
        return source
    }

    /// Cog's "Type annotations": the predictor class's `run` (else `predict`) method and a trainer class's `train`
    /// need a return type (a function is not looked at, as in Cog).
    func annotationFindings() -> [DoctorFinding] {
        let (predict, train) = references
        var findings: [DoctorFinding] = []
        for (reference, isTrainer) in [(predict, false), (train, true)] {
            guard let parts = reference?.split(separator: ":").map(String.init), parts.count == 2,
                let source = source(parts[0])
            else { continue }
            let (file, name) = (parts[0], parts[1])
            var method: PythonSource.Statement?
            var methodName = isTrainer ? "train" : "predict"
            if let declared = source.classes(named: name).first {
                let runs = source.methods(named: "run", inClassAt: declared.first)
                if !isTrainer, let run = runs.first {
                    (method, methodName) = (run, "run")
                } else {
                    method = source.methods(named: methodName, inClassAt: declared.first).first
                }
            }
            guard let method, !Self.hasReturnType(method.text) else { continue }
            findings.append(
                DoctorFinding(
                    .warning, "\(name).\(methodName)() is missing a return type annotation",
                    remediation: "Add a return type annotation: def \(methodName)(self, ...) -> YourType:", file: file,
                    line: method.first + 1))
        }
        return findings
    }

    /// Whether a `def` statement's signature (up to the colon after its parameters) has `->`.
    static func hasReturnType(_ statement: String) -> Bool {
        var depth = 0
        var index = statement.startIndex
        while index < statement.endIndex {
            switch statement[index] {
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth == 0 {
                    let rest = statement[statement.index(after: index)...]
                    let signatureEnd = rest.firstIndex(of: ":") ?? rest.endIndex
                    return rest[..<signatureEnd].contains("->")
                }
            default: break
            }
            index = statement.index(after: index)
        }
        return false
    }
}
