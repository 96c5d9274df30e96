import Foundation

/// A number of bytes as a person reads it: `512 B`, `1.5 MiB`.
public struct ByteCount: CustomStringConvertible, Sendable {
    public let bytes: Int64

    public init(_ bytes: Int64) { self.bytes = bytes }

    public var description: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
