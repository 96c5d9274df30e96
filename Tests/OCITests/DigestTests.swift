import Foundation
import Testing

@testable import OCI

@Suite struct DigestTests {
    @Test func knownSHA256Values() throws {
        #expect(
            try Digest.sha256(Data()).description
                == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            try Digest.sha256(Data("abc".utf8)).encoded
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func streamingEqualsOneShot() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let hasher = try DigestHasher()
        for chunk in stride(from: 0, to: bytes.count, by: 777) {
            try hasher.update(bytes[chunk..<min(chunk + 777, bytes.count)])
        }
        #expect(hasher.count == 100_000)
        #expect(try hasher.finalize() == Digest.sha256(bytes))
    }

    @Test func sha512IsAcceptedOnRead() throws {
        let hex = String(repeating: "a", count: 128)
        let digest = try Digest(parsing: "sha512:\(hex)")
        #expect(digest.algorithm == .sha512)
        let hasher = try DigestHasher(.sha512)
        try hasher.update(Data("abc".utf8))
        #expect(try hasher.finalize().encoded.hasPrefix("ddaf35a193617aba"))
    }

    @Test(arguments: [
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "missing the \"algorithm:\" prefix"),
        ("md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm \"md5\""),
        ("sha256:abc", "sha256 needs 64 hex characters, found 3"),
        (
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "the hash must be lowercase hexadecimal"
        ),
        (
            "sha256:zzb0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "the hash must be lowercase hexadecimal"
        ),
    ])
    func invalidDigestsNameTheProblem(value: String, reason: String) {
        #expect(throws: OCIError.invalidDigest(value, reason: reason)) { try Digest(parsing: value) }
    }

    @Test func errorTextTellsWhatIsExpected() {
        let error = OCIError.invalidDigest("sha256:abc", reason: "sha256 needs 64 hex characters, found 3")
        #expect(
            error.description
                == "invalid digest \"sha256:abc\": sha256 needs 64 hex characters, found 3 (expected sha256:<64 lowercase hex>)"
        )
    }
}
