import Foundation

/// `-i name=value` and `-i name=@file` turned into the JSON a prediction takes, typed by the OpenAPI schema.
public enum PredictionInputs {
    /// Builds `{"name": value, …}` as Cog does (`pkg/predict/input.go`): each value typed by its input's schema
    /// (`InputSchema`: `$ref`s, `allOf` enums, `anyOf` unions); a name given more than once becomes a list typed
    /// by the items' schema; `name=@file` becomes a data URL; a value in double quotes loses them.
    /// - Parameter training: typed by the schema's `TrainingInput` (`cog train`), else `Input`.
    public static func parse(_ items: [String], schema: String?, training: Bool = false) throws -> [String: Any] {
        let properties = Self.properties(schema: schema, training: training)
        var names: [String] = []
        var values: [String: [String]] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw PredictError.inputSyntax(item)
            }
            let name = String(item[..<equals])
            var raw = String(item[item.index(after: equals)...])
            if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") { raw = String(raw.dropFirst().dropLast()) }
            if values[name] == nil { names.append(name) }
            values[name, default: []].append(raw)
        }
        var result: [String: Any] = [:]
        for name in names {
            let raws = values[name] ?? []
            let property = properties[name]
            if raws.count == 1, let raw = raws.first {
                if raw.hasPrefix("@") {
                    let file = try dataURL(path: String(raw.dropFirst()))
                    result[name] = property?.concreteType == "array" ? [file] : file
                } else {
                    result[name] = property?.value(for: raw) ?? raw
                }
            } else {
                let items = property?.itemSchema
                result[name] = try raws.map { raw -> Any in
                    raw.hasPrefix("@") ? try dataURL(path: String(raw.dropFirst())) : items?.coerceScalar(raw) ?? raw
                }
            }
        }
        return result
    }

    /// Checks inputs against the schema's `Input` component (`TrainingInput` for a training) as Cog's preflight
    /// does (`pkg/predict/input_validation.go`), before a build or before the model starts: names the component does
    /// not declare (the runtime would silently drop them), then an explicit null (the runtime refuses it even for an
    /// optional input), then each value (type, choices, bounds, length, pattern) and the required inputs, all
    /// reported at once. Without a schema or its component nothing is checked.
    /// - Throws: `PredictError.unknownInputs`, `PredictError.invalidInputs`.
    public static func validate(_ inputs: [String: Any], schema: String?, training: Bool = false) throws {
        guard let input = component(schema: schema, training: training) else { return }
        let declared = (input["properties"] as? [String: Any]) ?? [:]
        let unknown = inputs.keys.filter { declared[$0] == nil }.sorted()
        if !unknown.isEmpty { throw PredictError.unknownInputs(unknown, valid: declared.keys.sorted()) }
        let properties = Self.properties(schema: schema, training: training)
        for name in inputs.keys.sorted() where inputs[name] is NSNull {
            if properties[name]?.allowsNull == false {
                throw PredictError.invalidInputs([InputProblem(path: [name], reason: InputProblem.null).message])
            }
        }
        let problems = InputSchema(input, components: Self.components(schema: schema)).objectProblems(inputs, at: [])
        if !problems.isEmpty { throw PredictError.invalidInputs(problems.map(\.message)) }
    }

    /// `--json`: the inputs as one JSON object, given inline, as `@file`, or `@-` or `-` (standard input), as Cog
    /// reads it.
    public static func parseJSON(_ argument: String) throws -> [String: Any] {
        let data: Data
        let source: String
        if argument == "@-" || argument == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
            source = "standard input"
        } else if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw PredictError.jsonUnreadable(path: path)
            }
            data = contents
            source = path
        } else {
            data = Data(argument.utf8)
            source = "the --json argument"
        }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw PredictError.jsonInvalid(
                source: source, detail: "\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error)")
        }
        guard let object = parsed as? [String: Any] else {
            throw PredictError.jsonNotObject(source: source)
        }
        return object
    }

    /// The input component's properties, each with the document's components to follow `$ref`s into.
    static func properties(schema: String?, training: Bool) -> [String: InputSchema] {
        let components = Self.components(schema: schema)
        guard let input = components[training ? "TrainingInput" : "Input"] as? [String: Any],
            let properties = input["properties"] as? [String: Any]
        else { return [:] }
        return properties.compactMapValues { value in
            (value as? [String: Any]).map { InputSchema($0, components: components) }
        }
    }

    static func dataURL(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: (path as NSString).expandingTildeInPath) else {
            throw PredictError.inputFileUnreadable(path: path)
        }
        let mime = MediaTypes.mediaType(forPath: path)
        return "data:\(mime);base64,\(data.base64EncodedString())"
    }

    /// The schema's input component: `TrainingInput` for a training (none when the schema lacks it: the
    /// predictor's `Input` says nothing about a trainer's inputs), else `Input`.
    static func component(schema: String?, training: Bool) -> [String: Any]? {
        components(schema: schema)[training ? "TrainingInput" : "Input"] as? [String: Any]
    }

    /// The document's `components.schemas` (empty without a schema).
    static func components(schema: String?) -> [String: Any] {
        guard let data = schema?.data(using: .utf8),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any]
        else { return [:] }
        return schemas
    }
}
