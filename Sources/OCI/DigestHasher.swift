import CCrypto
import Foundation

/// A streaming hash over libcrypto's EVP interface: feed bytes in any number of pieces, then `finalize()`.
///
/// One owner; not `Sendable`.
public final class DigestHasher {
    private var context: OpaquePointer?
    public let algorithm: Digest.Algorithm
    /// Bytes fed so far.
    public private(set) var count: Int64 = 0

    /// - Throws: `OCIError.crypto` when libcrypto cannot start the digest (out of memory).
    public init(_ algorithm: Digest.Algorithm = .sha256) throws {
        self.algorithm = algorithm
        context = EVP_MD_CTX_new()
        guard context != nil else {
            throw OCIError.crypto(operation: "allocate a \(algorithm) context", detail: Self.errorQueue())
        }
        try Self.check(
            EVP_DigestInit_ex(context, algorithm == .sha256 ? EVP_sha256() : EVP_sha512(), nil),
            "start a \(algorithm) digest")
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ buffer: UnsafeRawBufferPointer) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard let context else { throw OCIError.crypto(operation: "update a finished digest", detail: "") }
        try Self.check(EVP_DigestUpdate(context, base, buffer.count), "hash \(buffer.count) bytes")
        count += Int64(buffer.count)
    }

    public func update(_ data: some DataProtocol) throws {
        for region in data.regions {
            try region.withUnsafeBytes { try update($0) }
        }
    }

    /// The digest of everything fed. The hasher cannot be used afterwards.
    public func finalize() throws -> Digest {
        guard let context else { throw OCIError.crypto(operation: "finish a finished digest", detail: "") }
        defer {
            EVP_MD_CTX_free(context)
            self.context = nil
        }
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        try Self.check(EVP_DigestFinal_ex(context, &out, &length), "finish a \(algorithm) digest")
        return Digest(algorithm: algorithm, bytes: out.prefix(Int(length)))
    }

    /// The one checker for EVP results: 1 is success, anything else fails with OpenSSL's error queue.
    static func check(_ result: Int32, _ operation: String) throws {
        guard result == 1 else { throw OCIError.crypto(operation: operation, detail: errorQueue()) }
    }

    /// OpenSSL's queued errors, oldest first, as text (the queue is emptied).
    static func errorQueue() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            messages.append(String(decoding: text, as: UTF8.self))
        }
        return messages.joined(separator: "; ")
    }
}
