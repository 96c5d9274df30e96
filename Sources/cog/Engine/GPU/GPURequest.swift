import Foundation
import OCI

/// Which GPUs a model asks for: Docker's and Cog's `--gpus` value (`all`, a count, `device=0,1`, or
/// `key=value` pairs such as `"count=2,capabilities=compute"`), or Cog's automatic `all` for `gpu: true`.
public enum GPURequest: Sendable, Equatable, CustomStringConvertible {
    case all
    case count(Int)
    /// Device names as the CDI spec names them (`0`, `1`, `GPU-<uuid>`), or indices without a spec.
    case devices([String])

    /// Parses `--gpus`. `driver=` other than nvidia and `capabilities=` are accepted as Docker does (every
    /// capability is given: the CDI spec decides what the devices bring).
    /// - Throws: `GPUError.badRequest` with what was wrong.
    public init(parsing text: String) throws(GPUError) {
        let value = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        if value == "all" {
            self = .all
            return
        }
        if let number = Int(value) {
            guard number > 0 || number == -1 else { throw .badRequest(text, "a count must be 1 or more") }
            self = number == -1 ? .all : .count(number)
            return
        }
        var result: GPURequest?
        // device=0,1 lists names after one key, so the value is split on keys, not on every comma.
        var pairs: [(String, String)] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: true) {
            if let equals = item.firstIndex(of: "="),
                ["device", "count", "driver", "capabilities"].contains(String(item[..<equals]))
            {
                pairs.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
            } else if let last = pairs.indices.last, ["device", "capabilities"].contains(pairs[last].0) {
                pairs[last].1 += ",\(item)"
            } else {
                throw .badRequest(text, "expected all, a count, device=NAME[,NAME…] or count=N")
            }
        }
        for (key, value) in pairs {
            switch key {
            case "device":
                let names = value.split(separator: ",").map(String.init)
                guard !names.isEmpty else { throw .badRequest(text, "device= names no device") }
                result = names == ["all"] ? .all : .devices(names)
            case "count":
                if value == "all" {
                    result = .all
                } else if let number = Int(value), number > 0 {
                    result = .count(number)
                } else {
                    throw .badRequest(text, "count= must be all or a number of GPUs")
                }
            case "driver":
                guard value == "nvidia" else { throw .badRequest(text, "only the nvidia driver is supported") }
            default:
                break
            }
        }
        self = result ?? .all
    }

    /// Cog's rule: a model built with `gpu: true` (in its `run.cog.config` label) gets every GPU unless
    /// `--gpus` says otherwise; nil for CPU models.
    public static func automatic(for image: StoredImage) -> GPURequest? {
        guard let label = image.configuration.config?.labels?["run.cog.config"],
            let object = try? JSONSerialization.jsonObject(with: Data(label.utf8)) as? [String: Any],
            let build = object["build"] as? [String: Any], build["gpu"] as? Bool == true
        else { return nil }
        return .all
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .count(let number): return "\(number)"
        case .devices(let names): return "device=\(names.joined(separator: ","))"
        }
    }
}
