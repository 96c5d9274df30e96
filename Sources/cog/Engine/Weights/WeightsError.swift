/// Why a weights command failed; each message says what to do.
public enum WeightsError: Error, CustomStringConvertible, Equatable {
    case source(String)
    case lockfile(String)
    case integrity(String)
    case usage(String)
    case notCached(weight: String, path: String)

    public var description: String {
        switch self {
        case .source(let message), .lockfile(let message), .integrity(let message), .usage(let message):
            return message
        case .notCached(let weight, let path):
            return "weight \"\(weight)\" is not fully cached locally (missing \(path)); run 'cog weights pull' first"
        }
    }
}
