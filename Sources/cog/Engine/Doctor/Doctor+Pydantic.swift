import Foundation

extension Doctor {
    /// A top-level class of `source` deriving from pydantic's BaseModel whose body sets
    /// `model_config = ConfigDict(arbitrary_types_allowed=True)`: the workaround cog.BaseModel replaces (Cog's
    /// `check_python_pydantic_basemodel.go`). Its `class` statement and the `model_config` lines.
    struct PydanticWorkaround {
        let declaration: PythonSource.Statement
        let name: String
        let configuration: [PythonSource.Statement]
    }

    /// The name pydantic's BaseModel has in `source` (`from pydantic import BaseModel [as X]`), if imported so.
    static func pydanticBaseModelName(in source: PythonSource) -> String? {
        for statement in source.topLevel {
            guard let (module, names) = fromImport(statement.text), module == "pydantic" else { continue }
            if let entry = names.first(where: { $0.name == "BaseModel" }) {
                return entry.text.split(separator: " ").last.map(String.init)
            }
        }
        return nil
    }

    static func pydanticWorkarounds(in source: PythonSource) -> [PydanticWorkaround] {
        let imported = pydanticBaseModelName(in: source)
        return source.classes().compactMap { declaration in
            guard let name = PythonSource.declaredName(declaration.text, keyword: "class"),
                let open = declaration.text.firstIndex(of: "("),
                let close = declaration.text.lastIndex(of: ")")
            else { return nil }
            let bases = declaration.text[declaration.text.index(after: open)..<close].split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard bases.contains("pydantic.BaseModel") || imported.map(bases.contains) == true else { return nil }
            let body = source.block(after: declaration.last)
            guard let first = body.first(where: { !source.lines[$0].trimmingCharacters(in: .whitespaces).isEmpty })
            else { return nil }
            let settings = source.statements(indent: PythonSource.indent(source.lines[first]), in: body).filter {
                let text = $0.text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "")
                return text.hasPrefix("model_config=") && text.contains("arbitrary_types_allowed=True")
            }
            return settings.isEmpty
                ? nil : PydanticWorkaround(declaration: declaration, name: name, configuration: settings)
        }
    }

    func pydanticFindings() -> [DoctorFinding] {
        pythonFiles.flatMap { file -> [DoctorFinding] in
            guard let source = source(file) else { return [] }
            return Self.pydanticWorkarounds(in: source).map { workaround in
                DoctorFinding(
                    .error,
                    "\(workaround.name) inherits from pydantic.BaseModel with arbitrary_types_allowed; use cog.BaseModel instead",
                    remediation:
                        "Replace pydantic.BaseModel with cog.BaseModel and remove ConfigDict(arbitrary_types_allowed=True)",
                    file: file, line: workaround.declaration.first + 1)
            }
        }
    }

    /// The flagged classes derive from cog's BaseModel (imported from cog under the name pydantic's had, or as
    /// `CogBaseModel` where another class still uses pydantic's), without their `model_config` lines; pydantic's
    /// `BaseModel` and `ConfigDict` leave its import when nothing else uses them.
    func replacePydanticWorkarounds() throws {
        for file in pythonFiles {
            guard var source = source(file) else { continue }
            let workarounds = Self.pydanticWorkarounds(in: source)
            guard !workarounds.isEmpty else { continue }
            let pydanticName = Self.pydanticBaseModelName(in: source) ?? "BaseModel"
            let flagged = Set(workarounds.map(\.declaration.first))
            let othersUsePydantic = source.classes().contains { declaration in
                !flagged.contains(declaration.first) && PythonSource.uses(declaration.text, pydanticName)
            }
            let cogName = othersUsePydantic ? "CogBaseModel" : pydanticName
            var edits: [(PythonSource.Statement, String?)] = []
            for workaround in workarounds {
                let declaration = workaround.declaration.text
                    .replacingOccurrences(of: "pydantic.BaseModel", with: cogName)
                    .replacingOccurrences(
                        of: #"(?<![\w.])"# + NSRegularExpression.escapedPattern(for: pydanticName) + #"(?!\w)"#,
                        with: cogName, options: .regularExpression)
                edits.append((workaround.declaration, declaration))
                edits += workaround.configuration.map { ($0, nil) }
            }
            source = Self.replacing(edits, in: source)
            source = Self.importingCogBaseModel(as: cogName, in: source, keepPydantic: othersUsePydantic)
            try write(source.text, to: file)
        }
    }

    /// `source` importing cog's BaseModel (added to `from cog import …`, or a new import), and pydantic's
    /// `BaseModel` and `ConfigDict` dropped from their import where nothing uses them any more.
    private static func importingCogBaseModel(as name: String, in source: PythonSource, keepPydantic: Bool)
        -> PythonSource
    {
        var edits: [(PythonSource.Statement, String?)] = []
        let imported = name == "BaseModel" ? "BaseModel" : "BaseModel as \(name)"
        var added = false
        for statement in source.topLevel {
            guard let (module, names) = fromImport(statement.text) else { continue }
            if module == "cog", !added {
                edits.append((statement, "from cog import " + (names.map(\.text) + [imported]).joined(separator: ", ")))
                added = true
            } else if module == "pydantic" {
                let others = source.lines.enumerated().filter {
                    !(statement.first...statement.last).contains($0.offset)
                }
                let kept = names.filter { entry in
                    // Its name now means cog's BaseModel, unless another class still needs pydantic's.
                    if entry.name == "BaseModel" { return keepPydantic }
                    guard entry.name == "ConfigDict" else { return true }
                    let local = entry.text.split(separator: " ").last.map(String.init) ?? entry.name
                    return others.contains { PythonSource.uses($0.element, local) }
                }
                guard kept.count != names.count else { continue }
                edits.append(
                    (statement, kept.isEmpty ? nil : "from pydantic import " + kept.map(\.text).joined(separator: ", "))
                )
            }
        }
        var result = replacing(edits, in: source)
        if !added,
            let first = result.topLevel.first(where: { $0.text.hasPrefix("from ") || $0.text.hasPrefix("import ") })
        {
            result.lines.insert("from cog import \(imported)", at: first.first)
        } else if !added {
            result.lines.insert("from cog import \(imported)", at: 0)
        }
        return result
    }
}
