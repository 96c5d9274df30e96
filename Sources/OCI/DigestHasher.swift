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

    public init(_ algorithm: Digest.Algorithm = .sha256) {
        self.algorithm = algorithm
        context = EVP_MD_CTX_new()
        let md = algorithm == .sha256 ? EVP_sha256() : EVP_sha512()
        // EVP_DigestInit_ex only fails when out of memory; there is nothing sensible to recover then.
        guard let context, EVP_DigestInit_ex(context, md, nil) == 1 else {
            fatalError("libcrypto could not start a \(algorithm) digest (out of memory)")
        }
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        EVP_DigestUpdate(context, base, buffer.count)
        count += Int64(buffer.count)
    }

    public func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { update($0) }
        }
    }

    /// The digest of everything fed. The hasher cannot be used afterwards.
    public func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        EVP_MD_CTX_free(context)
        context = nil
        return Digest(algorithm: algorithm, bytes: out.prefix(Int(length)))
    }
}
