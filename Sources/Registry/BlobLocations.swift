import Foundation
import OCI

/// Where blobs were pushed before (registry and repository by digest), so that pushing one again to another
/// repository of the same registry is a mount instead of an upload (c/image's blob-info cache does the same).
/// One small file per digest; losing it costs only an upload.
public struct BlobLocations: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    private func file(_ digest: Digest) -> String { "\(directory)/\(digest.encoded)" }

    /// Repositories of `registry` that hold `digest`, most recent first.
    public func repositories(holding digest: Digest, on registry: String) -> [String] {
        guard let data = try? FileSystem.read(file(digest)) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").reversed().compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            return parts.count == 2 && parts[0] == registry ? parts[1] : nil
        }
    }

    /// Records that `repository` of `registry` holds `digest` (the last 20 places are kept).
    public func record(_ digest: Digest, registry: String, repository: String) {
        let line = "\(registry) \(repository)"
        let known = (try? FileSystem.read(file(digest))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let lines = known.split(separator: "\n").map(String.init).filter { $0 != line } + [line]
        // Best effort: a location not recorded only means a later upload instead of a mount.
        try? FileSystem.makeDirectory(directory)
        try? FileSystem.writeAtomically(Data((lines.suffix(20).joined(separator: "\n") + "\n").utf8), to: file(digest))
    }
}
