import Foundation

/// The cog runtime's output made readable: coglet writes JSON log records (`{"level":…,"fields":{"message":…}}`);
/// a person reads `LEVEL message`, and the error records are what a failed setup is reported with.
public enum RuntimeLog {
    /// `line` as a person reads it: a JSON record as its level, message and error; any other line as it is.
    public static func readable(_ line: String) -> String {
        guard let record = record(line) else { return line }
        let fields = record["fields"] as? [String: Any] ?? [:]
        let parts = [record["level"] as? String, fields["message"] as? String, fields["error"] as? String]
        return parts.compactMap { $0 }.joined(separator: " ")
    }

    /// The runtime's own account of a failure in `line`: the `error` (else the message) of an ERROR record.
    static func error(in line: String) -> String? {
        guard let record = record(line), record["level"] as? String == "ERROR" else { return nil }
        let fields = record["fields"] as? [String: Any] ?? [:]
        return fields["error"] as? String ?? fields["message"] as? String
    }

    private static func record(_ line: String) -> [String: Any]? {
        guard line.hasPrefix("{"), line.utf8.count < 1 << 20 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }
}
