import Foundation

/// One input's OpenAPI schema, `$ref`s into the document's components followed, as Cog reads it to type `-i`
/// values before the model starts (`pkg/predict/input.go`): an `int` with `choices` (`allOf: [{$ref: …}]` to an
/// integer enum) gets an integer, a `str | float` union (`anyOf`) a float for `1.5` and a string for `hello`.
struct InputSchema {
    let node: [String: Any]
    /// `components.schemas` of the document, for `$ref`.
    let components: [String: Any]

    init(_ node: [String: Any], components: [String: Any]) {
        var node = node
        // A $ref is followed (a few levels at most: a schema that refers to itself must not loop).
        for _ in 0..<8 {
            guard let ref = node["$ref"] as? String, let name = ref.split(separator: "/").last,
                let target = components[String(name)] as? [String: Any]
            else { break }
            node.removeValue(forKey: "$ref")
            node.merge(target) { own, _ in own }
        }
        self.node = node
        self.components = components
    }

    var type: String? { node["type"] as? String }

    /// The schemas this one is composed of: `anyOf`, `allOf` and `oneOf` members, in that order.
    var members: [InputSchema] {
        ["anyOf", "allOf", "oneOf"].flatMap { key in
            ((node[key] as? [Any]) ?? []).compactMap {
                ($0 as? [String: Any]).map { InputSchema($0, components: components) }
            }
        }
    }

    /// Whether this schema or one of its members (at any depth) has one of `types`.
    func accepts(_ types: Set<String>) -> Bool {
        if let type, types.contains(type) { return true }
        return members.contains { $0.accepts(types) }
    }

    /// The type that decides how a value is read: this schema's own, else the first `allOf` then `anyOf` member's.
    var concreteType: String? {
        if let type { return type }
        for key in ["allOf", "anyOf"] {
            for member in (node[key] as? [Any]) ?? [] {
                if let member = member as? [String: Any], let type = InputSchema(member, components: components).type {
                    return type
                }
            }
        }
        return nil
    }

    /// The schema of an array's items: `items`, else those of its `anyOf`/`oneOf` members (as a union), else of its
    /// `allOf` members.
    var itemSchema: InputSchema? {
        if let items = node["items"] as? [String: Any] { return InputSchema(items, components: components) }
        let unions = ["anyOf", "oneOf"].flatMap { key in
            ((node[key] as? [Any]) ?? []).compactMap {
                ($0 as? [String: Any]).flatMap { InputSchema($0, components: components).itemSchema?.node }
            }
        }
        if !unions.isEmpty { return InputSchema(["anyOf": unions], components: components) }
        for member in (node["allOf"] as? [Any]) ?? [] {
            if let member = member as? [String: Any], let items = InputSchema(member, components: components).itemSchema
            {
                return items
            }
        }
        return nil
    }

    /// Whether `value` (a String, Int, Double, Bool, array or object) matches: type, enum, bounds and composition.
    func isValid(_ value: Any) -> Bool {
        if let type, !Self.value(value, hasType: type) { return false }
        if let choices = node["enum"] as? [Any],
            !choices.contains(where: { Self.json($0) == Self.json(value) })
        {
            return false
        }
        if let number = Self.number(value) {
            if let minimum = (node["minimum"] as? NSNumber)?.doubleValue, number < minimum { return false }
            if let maximum = (node["maximum"] as? NSNumber)?.doubleValue, number > maximum { return false }
        }
        let all = ((node["allOf"] as? [Any]) ?? []).compactMap { $0 as? [String: Any] }
        if !all.allSatisfy({ InputSchema($0, components: components).isValid(value) }) { return false }
        for key in ["anyOf", "oneOf"] {
            let any = ((node[key] as? [Any]) ?? []).compactMap { $0 as? [String: Any] }
            if !any.isEmpty && !any.contains(where: { InputSchema($0, components: components).isValid(value) }) {
                return false
            }
        }
        return true
    }

    /// A raw `-i` value as the scalar the schema takes: `true`/`false` for a boolean, an integer, then a number,
    /// each only where the schema takes it (where it also takes a string, only when the value then matches);
    /// otherwise the text as it is, for the runtime's validation to judge.
    func coerceScalar(_ raw: String) -> Any {
        if let flag = ["true": true, "false": false][raw], accepts(["boolean"]), usable(flag) { return flag }
        guard accepts(["number", "integer"]) else { return raw }
        if let integer = Int(raw), usable(integer) { return integer }
        guard accepts(["number"]) else { return raw }
        if let number = Double(raw), number.isFinite, usable(number) { return number }
        return raw
    }

    /// A raw `-i` value given once: JSON for an object, a JSON list or a one-item list for an array, else a scalar.
    func value(for raw: String) -> Any {
        switch concreteType {
        case "object":
            return (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] ?? raw
        case "array":
            if let list = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [Any] { return list }
            if accepts(["string"]) && isValid(raw) { return raw }
            let list = [itemSchema?.coerceScalar(raw) ?? raw]
            return accepts(["string"]) && !isValid(list) ? raw : list
        default:
            return coerceScalar(raw)
        }
    }

    /// `value` as JSON text, to compare an enum's values (as JSONSerialization read them) with one made here.
    private static func json(_ value: Any) -> String? {
        (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) }
    }

    private func usable(_ candidate: Any) -> Bool { !accepts(["string"]) || isValid(candidate) }

    private static func number(_ value: Any) -> Double? {
        if value is Bool { return nil }
        if let integer = value as? Int { return Double(integer) }
        return value as? Double
    }

    private static func typeName(of value: Any) -> String {
        switch value {
        case is Bool: "boolean"
        case is Int: "integer"
        case is Double: "number"
        case is String: "string"
        case is [Any]: "array"
        case is [String: Any]: "object"
        default: "null"
        }
    }

    /// Whether `value` (a value made here, not one JSONSerialization read) has JSON Schema type `type` (an integer is
    /// also a number; a boolean is neither).
    private static func value(_ value: Any, hasType type: String) -> Bool {
        switch (type, typeName(of: value)) {
        case (let a, let b) where a == b: return true
        case ("number", "integer"): return true
        case ("integer", "number"): return (value as? Double).map { $0 == $0.rounded() } ?? false
        default: return false
        }
    }
}
