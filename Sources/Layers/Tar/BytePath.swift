import Foundation

/// A path as the file system and tar headers hold it: bytes, `/`-separated, which need not be UTF-8.
///
/// Linux allows any byte but `/` and NUL in a name, and a `String` cannot hold a name that is not UTF-8 (it
/// repairs it, and the repaired name no longer exists on disk). Paths that come from directories and tar headers
/// travel as `BytePath`; `description` shows them to people, with each byte that is not UTF-8 as `\xNN`.
public struct BytePath: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init<S: Sequence<UInt8>>(bytes: S) { self.bytes = Array(bytes) }
    public init(_ string: String) { bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    /// The bytes of a NUL-terminated C string; nil for a null pointer.
    public init?(cString: UnsafePointer<CChar>?) {
        guard let cString else { return nil }
        bytes = Array(UnsafeRawBufferPointer(start: cString, count: strlen(cString)))
    }

    public var isEmpty: Bool { bytes.isEmpty }
    public var count: Int { bytes.count }

    /// The path as a string, or nil when it is not UTF-8.
    public var string: String? { String(validating: bytes, as: UTF8.self) }

    /// For messages: the UTF-8 text, with every byte that is not part of valid UTF-8 written as `\xNN`.
    public var description: String {
        if let string { return string }
        var result = ""
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + 4)
            var decoded = false
            for length in 1...(end - index) {
                if let text = String(validating: bytes[index..<index + length], as: UTF8.self) {
                    result += text
                    index += length
                    decoded = true
                    break
                }
            }
            if !decoded {
                result += "\\x" + String(bytes[index], radix: 16, uppercase: true).leftPadded(to: 2)
                index += 1
            }
        }
        return result
    }

    public static func < (lhs: BytePath, rhs: BytePath) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// `self/component` (just `component` when `self` is empty).
    public func appending(_ component: BytePath) -> BytePath {
        if isEmpty { return component }
        if component.isEmpty { return self }
        return BytePath(bytes + [0x2f] + component.bytes)
    }

    public func appending(_ component: String) -> BytePath { appending(BytePath(component)) }

    /// The non-empty components between slashes.
    public var components: [BytePath] {
        bytes.split(separator: 0x2f, omittingEmptySubsequences: true).map { BytePath(bytes: $0) }
    }

    /// `a/b/c` → (`a/b`, `c`); a path without a slash has an empty parent.
    public var parentAndName: (parent: BytePath, name: BytePath) {
        guard let slash = bytes.lastIndex(of: 0x2f) else { return ("", self) }
        return (BytePath(bytes: bytes[..<slash]), BytePath(bytes: bytes[(slash + 1)...]))
    }

    /// The directories above the path, nearest first (`a/b/c` → `a/b`, `a`).
    public var parents: [BytePath] {
        var result: [BytePath] = []
        var current = parentAndName.parent
        while !current.isEmpty {
            result.append(current)
            current = current.parentAndName.parent
        }
        return result
    }

    public func hasPrefix(_ prefix: String) -> Bool { bytes.starts(with: prefix.utf8) }

    /// Calls `body` with the path as a NUL-terminated C string.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var terminated = bytes
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
