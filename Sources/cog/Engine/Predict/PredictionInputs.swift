import Foundation

/// `-i name=value` and `-i name=@file` turned into the JSON a prediction takes, typed by the OpenAPI schema.
public enum PredictionInputs {
    /// Builds `{"name": value, …}`; repeated names become arrays; files become data URLs.
    /// - Parameter training: typed by the schema's `TrainingInput` (`cog train`), else `Input`.
    public static func parse(_ items: [String], schema: String?, training: Bool = false) throws -> [String: Any] {
        let types = Self.inputTypes(schema: schema, training: training)
        var result: [String: Any] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw PredictError.inputSyntax(item)
            }
            let name = String(item[..<equals])
            let raw = String(item[item.index(after: equals)...])
            let value: Any
            if raw.hasPrefix("@") {
                value = try dataURL(path: String(raw.dropFirst()))
            } else {
                value = coerce(raw, type: types[name]?.itemType ?? types[name]?.type)
            }
            if types[name]?.type == "array" || result[name] != nil {
                var list = (result[name] as? [Any]) ?? (result[name].map { [$0] } ?? [])
                list.append(value)
                result[name] = list
            } else {
                result[name] = value
            }
        }
        return result
    }

    /// Refuses inputs the schema's `Input` component does not declare, in Cog's words (`pkg/predict/
    /// input_validation.go`): the CLI is stricter than the runtime, which would silently drop them. Then the inputs
    /// the component requires that are missing, before the model starts.
    /// - Throws: `PredictError.unknownInputs`, `PredictError.missingInputs`.
    public static func checkNames(_ inputs: [String: Any], schema: String?, training: Bool = false) throws {
        guard let input = component(schema: schema, training: training) else { return }
        let declared = (input["properties"] as? [String: Any]) ?? [:]
        let unknown = inputs.keys.filter { declared[$0] == nil }.sorted()
        if !unknown.isEmpty { throw PredictError.unknownInputs(unknown, valid: declared.keys.sorted()) }
        let missing = ((input["required"] as? [String]) ?? []).filter { inputs[$0] == nil }.sorted()
        if !missing.isEmpty { throw PredictError.missingInputs(missing) }
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

    static func coerce(_ raw: String, type: String?) -> Any {
        switch type {
        case "integer": return Int(raw) ?? raw
        case "number": return Double(raw) ?? raw
        case "boolean":
            if ["true", "1", "yes"].contains(raw.lowercased()) { return true }
            if ["false", "0", "no"].contains(raw.lowercased()) { return false }
            return raw
        default: return raw
        }
    }

    static func inputTypes(schema: String?, training: Bool = false) -> [String: (type: String?, itemType: String?)] {
        guard let properties = component(schema: schema, training: training)?["properties"] as? [String: Any] else {
            return [:]
        }
        var result: [String: (type: String?, itemType: String?)] = [:]
        for (name, value) in properties {
            let property = value as? [String: Any]
            result[name] = (property?["type"] as? String, (property?["items"] as? [String: Any])?["type"] as? String)
        }
        return result
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
        guard let data = schema?.data(using: .utf8),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any]
        else { return nil }
        return schemas[training ? "TrainingInput" : "Input"] as? [String: Any]
    }
}
