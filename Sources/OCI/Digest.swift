import Foundation

/// A content digest, `algorithm:encoded`, validated once at the edge.
///
/// image-spec descriptor.md: sha256 is required; sha512 is accepted on read.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256, sha512
        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// Lowercase hex of the hash.
    public let encoded: String

    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`.
    /// - Throws: `OCIError.invalidDigest` naming what is wrong.
    public init(parsing value: String) throws {
        guard let colon = value.firstIndex(of: ":") else {
            throw OCIError.invalidDigest(value, reason: "missing the \"algorithm:\" prefix")
        }
        let name = String(value[..<colon])
        let hex = String(value[value.index(after: colon)...])
        guard let algorithm = Algorithm(rawValue: name) else {
            throw OCIError.invalidDigest(value, reason: "unsupported algorithm \"\(name)\"")
        }
        guard hex.utf8.count == algorithm.hexLength else {
            throw OCIError.invalidDigest(
                value, reason: "\(name) needs \(algorithm.hexLength) hex characters, found \(hex.utf8.count)")
        }
        guard hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw OCIError.invalidDigest(value, reason: "the hash must be lowercase hexadecimal")
        }
        self.algorithm = algorithm
        self.encoded = hex
    }

    /// The digest whose hash is `bytes`.
    public init(algorithm: Algorithm, bytes: some Sequence<UInt8>) {
        self.algorithm = algorithm
        self.encoded = bytes.map { String(format: "%02x", $0) }.joined()
    }

    public var description: String { "\(algorithm.rawValue):\(encoded)" }

    /// SHA-256 of `data`.
    /// - Throws: `OCIError.crypto` when libcrypto fails (out of memory).
    public static func sha256(_ data: some DataProtocol) throws -> Digest {
        let hasher = try DigestHasher(.sha256)
        try hasher.update(data)
        return try hasher.finalize()
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}
