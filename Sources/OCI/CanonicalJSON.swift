import Foundation

/// Canonical JSON for OCI documents: sorted keys, no escaped slashes, no whitespace.
/// The same value always gives the same bytes, so the same digest.
public enum CanonicalJSON {
    /// Encodes `value` canonically.
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes `type` from `data`, naming `what` in the error.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as OCIError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw OCIError.invalidDocument(what: what, reason: "missing \"\(path(context.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw OCIError.invalidDocument(
                what: what, reason: "wrong type at \"\(path(context.codingPath))\": \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = (context.underlyingError as? OCIError)?.description ?? context.debugDescription
            throw OCIError.invalidDocument(
                what: what,
                reason: context.codingPath.isEmpty ? underlying : "at \"\(path(context.codingPath))\": \(underlying)")
        } catch {
            throw OCIError.invalidDocument(what: what, reason: "\(error)")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A JSON document and the descriptor that names its canonical bytes.
public struct EncodedDocument: Sendable {
    public let data: Data
    public let descriptor: Descriptor

    /// Encodes `value` canonically and describes it as `mediaType`.
    public init(_ value: some Encodable, mediaType: MediaType) throws {
        data = try CanonicalJSON.encode(value)
        descriptor = Descriptor(mediaType: mediaType, digest: try .sha256(data), size: Int64(data.count))
    }
}
