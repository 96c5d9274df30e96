import Foundation

/// What is wrong with one input value, as Cog's preflight reports it (`pkg/predict/input_validation.go` over
/// kin-openapi's `VisitJSON`): the path to the value (`count`, `nums.1`, `opts.scale`) and the reason after
/// `invalid input "…": `, or a required value that is missing.
struct InputProblem: Equatable {
    let path: [String]
    let reason: String
    var missing = false

    /// `invalid input "count": number must be at least 1`, or `missing required input "prompt"`.
    var message: String {
        let name = path.joined(separator: ".")
        return missing ? "missing required input \"\(name)\"" : "invalid input \"\(name)\": \(reason)"
    }

    static let null = "must not be null (omit the input to use its default)"

    static func missing(_ path: [String]) -> InputProblem { InputProblem(path: path, reason: "", missing: true) }
}

extension InputSchema {
    /// The problems of `value` (as JSONSerialization reads it, or as `PredictionInputs.parse` makes it) at `path`,
    /// in the order kin-openapi finds them: enum, then `anyOf`/`oneOf`/`allOf`, then type, bounds, lengths, pattern,
    /// items and declared properties. Only what the schema states for certain is refused: formats (`uri` for files,
    /// `password` for secrets) are not checked, and a pattern this platform's regular expressions cannot read is
    /// left to the runtime.
    func problems(_ value: Any, at path: [String]) -> [InputProblem] {
        if value is NSNull { return allowsNull ? [] : [InputProblem(path: path, reason: InputProblem.null)] }
        if let choices = node["enum"] as? [Any], !choices.contains(where: { Self.equal($0, value) }) {
            return [InputProblem(path: path, reason: Self.mustBeOneOf(choices))]
        }
        for key in ["anyOf", "oneOf"] {
            let union = schemas(key)
            if !union.isEmpty && !union.contains(where: { $0.problems(value, at: path).isEmpty }) {
                let prefix = key == "oneOf" ? "value " : ""
                return [InputProblem(path: path, reason: "\(prefix)doesn't match any schema from \"\(key)\"")]
            }
        }
        let failed = schemas("allOf").flatMap { $0.problems(value, at: path) }
        if !failed.isEmpty {
            // Cog names the allowed values of an enum found anywhere beneath (`choices` are an allOf $ref).
            let choices = failed.first { $0.reason.hasPrefix("must be one of: ") }
            return [InputProblem(path: path, reason: choices?.reason ?? "doesn't match all schemas from \"allOf\"")]
        }
        return typedProblems(value, at: path)
    }

    /// Whether JSON null is valid under strict JSON Schema, OpenAPI's `nullable` ignored, as the runtime validates
    /// (Cog's `schemaAllowsNullWithoutNullable`).
    var allowsNull: Bool {
        var allowed = true
        if let type { allowed = type == "null" }
        if let types = node["type"] as? [Any] { allowed = types.contains { $0 as? String == "null" } }
        if let choices = node["enum"] as? [Any], !choices.isEmpty {
            allowed = allowed && choices.contains { $0 is NSNull }
        }
        allowed = allowed && schemas("allOf").allSatisfy(\.allowsNull)
        let union = schemas("anyOf")
        if !union.isEmpty { allowed = allowed && union.contains(where: \.allowsNull) }
        let one = schemas("oneOf")
        if !one.isEmpty { allowed = allowed && one.filter(\.allowsNull).count == 1 }
        if node["const"] != nil { allowed = false }
        return allowed
    }

    /// The problems after the composition keywords: the value's own type and that type's constraints.
    private func typedProblems(_ value: Any, at path: [String]) -> [InputProblem] {
        let kind = Self.jsonType(of: value)
        let permitted = permits(kind) || (kind == "number" && permits("integer"))
        guard permitted else { return [InputProblem(path: path, reason: expected(kind))] }
        switch value {
        case let text as String:
            return stringProblems(text, at: path)
        case let items as [Any]:
            guard let item = (node["items"] as? [String: Any]).map({ InputSchema($0, components: components) })
            else { return [] }
            return items.enumerated().flatMap { item.problems($0.element, at: path + [String($0.offset)]) }
        case let object as [String: Any]:
            return objectProblems(object, at: path)
        default:
            guard kind == "number", let number = (value as? NSNumber)?.doubleValue else { return [] }
            return numberProblems(number, at: path)
        }
    }

    /// The declared properties' problems (by name), then the required ones missing (in the schema's order): the
    /// model's inputs themselves, or an object input's declared fields.
    func objectProblems(_ object: [String: Any], at path: [String]) -> [InputProblem] {
        let declared = (node["properties"] as? [String: Any]) ?? [:]
        let found = object.keys.sorted().flatMap { key -> [InputProblem] in
            guard let property = declared[key] as? [String: Any], let value = object[key] else { return [] }
            return InputSchema(property, components: components).problems(value, at: path + [key])
        }
        let required = (node["required"] as? [Any] ?? []).compactMap { $0 as? String }
        return found + required.filter { object[$0] == nil }.map { InputProblem.missing(path + [$0]) }
    }

    private func numberProblems(_ number: Double, at path: [String]) -> [InputProblem] {
        var found: [InputProblem] = []
        if !permits("number") && number != number.rounded() {
            found.append(InputProblem(path: path, reason: expected("number")))
        }
        if let minimum = (node["minimum"] as? NSNumber)?.doubleValue, number < minimum {
            found.append(InputProblem(path: path, reason: "number must be at least \(Self.goFloat(minimum, 6))"))
        }
        if let maximum = (node["maximum"] as? NSNumber)?.doubleValue, number > maximum {
            found.append(InputProblem(path: path, reason: "number must be at most \(Self.goFloat(maximum, 6))"))
        }
        return found
    }

    private func stringProblems(_ text: String, at path: [String]) -> [InputProblem] {
        var found: [InputProblem] = []
        // Code points, as Go's range over a string and Python's len() count them.
        let length = text.unicodeScalars.count
        if let minimum = (node["minLength"] as? NSNumber)?.intValue, minimum != 0, length < minimum {
            found.append(InputProblem(path: path, reason: "minimum string length is \(minimum)"))
        }
        if let maximum = (node["maxLength"] as? NSNumber)?.intValue, length > maximum {
            found.append(InputProblem(path: path, reason: "maximum string length is \(maximum)"))
        }
        // A search, not an anchored match (JSON Schema's `pattern`): the most lenient reading of the runtime's.
        if let pattern = node["pattern"] as? String, let expression = try? NSRegularExpression(pattern: pattern),
            expression.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) == nil
        {
            found.append(InputProblem(path: path, reason: "string doesn't match the regular expression \"\(pattern)\""))
        }
        return found
    }

    /// Whether the schema's `type` (absent: any) allows JSON type `kind`.
    private func permits(_ kind: String) -> Bool {
        if let types = node["type"] as? [Any] { return types.contains { $0 as? String == kind } }
        guard let type else { return true }
        return type == kind
    }

    /// Cog's wording of a type mismatch: `expected integer, got string`.
    private func expected(_ kind: String) -> String {
        let types = (node["type"] as? [Any])?.compactMap { $0 as? String } ?? type.map { [$0] } ?? []
        let named =
            types.count <= 1
            ? (types.first ?? "valid JSON value")
            : types.dropLast().joined(separator: ", ") + " or " + (types.last ?? "")
        return "expected \(named), got \(kind)"
    }

    private func schemas(_ key: String) -> [InputSchema] {
        ((node[key] as? [Any]) ?? []).compactMap {
            ($0 as? [String: Any]).map { InputSchema($0, components: components) }
        }
    }

    /// `must be one of: small, medium, large`, each value as Go's `%v` prints it.
    private static func mustBeOneOf(_ choices: [Any]) -> String {
        "must be one of: "
            + choices.map { choice -> String in
                if choice is NSNull { return "<nil>" }
                if isBoolean(choice) { return (choice as? Bool) == true ? "true" : "false" }
                if let number = choice as? NSNumber, !(choice is String) { return goFloat(number.doubleValue, 21) }
                return "\(choice)"
            }.joined(separator: ", ")
    }

    /// The JSON type of a value as Go decodes it: every number is a `number`.
    static func jsonType(of value: Any) -> String {
        switch value {
        case is NSNull: "null"
        case is String: "string"
        case is [Any]: "array"
        case is [String: Any]: "object"
        case _ where isBoolean(value): "boolean"
        case is NSNumber: "number"
        default: "unknown"
        }
    }

    /// True for `true`/`false`, whether Swift's or JSONSerialization's (an NSNumber that `is Bool` also for 0 and 1
    /// on Linux; a boolean's Objective-C type is `c`, a JSON number's never is).
    static func isBoolean(_ value: Any) -> Bool {
        guard !(value is String), let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func equal(_ a: Any, _ b: Any) -> Bool {
        if isBoolean(a) || isBoolean(b) { return isBoolean(a) && isBoolean(b) && (a as? Bool) == (b as? Bool) }
        if let x = a as? String { return (b as? String) == x }
        if let x = a as? NSNumber, let y = b as? NSNumber, !(b is String) { return x.doubleValue == y.doubleValue }
        if a is NSNull || b is NSNull { return a is NSNull && b is NSNull }
        return NSDictionary(dictionary: ["v": a]).isEqual(to: ["v": b])
    }

    /// A number as Go's `%g` (exponent from 1e`exponentFrom`, Go's `%v` uses 21) prints it: `1`, `0.5`, `1e+06`.
    static func goFloat(_ value: Double, _ exponentFrom: Int) -> String {
        let magnitude = abs(value)
        if value == value.rounded(), magnitude < 1e18 {
            let digits = String(Int64(magnitude))
            let sign = value < 0 ? "-" : ""
            guard digits.count > exponentFrom else { return sign + digits }
            let significant = digits.reversed().drop { $0 == "0" }.reversed()
            let rest = String(significant.dropFirst())
            let exponent = digits.count - 1
            return "\(sign)\(digits.prefix(1))\(rest.isEmpty ? "" : "." + rest)e+\(exponent < 10 ? "0" : "")\(exponent)"
        }
        let text = "\(value)"
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}
