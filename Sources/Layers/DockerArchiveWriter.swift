import Foundation
import OCI

/// Writes an image as a docker-archive tar (`manifest.json` + config + layer blobs), the format `docker load`
/// and `podman load` read. It lives here rather than in OCI because it is a tar, and tars are this module's.
public enum DockerArchiveWriter {
    struct ManifestEntry: Encodable {
        let config: String
        let repoTags: [String]
        let layers: [String]
        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }
    }

    /// Writes `image`, whose blobs are in `blobs`, to `path` (through a temporary name).
    /// - Parameter tags: repository tags such as `cog-hello:latest`.
    public static func write(image: StoredImage, blobs: BlobStore, tags: [String], to path: String) throws {
        let configPath = "blobs/sha256/\(image.manifest.config.digest.encoded)"
        let layerPaths = image.manifest.layers.map { "blobs/sha256/\($0.digest.encoded)" }
        let manifest = try CanonicalJSON.encode([ManifestEntry(config: configPath, repoTags: tags, layers: layerPaths)])
        let temporary = FileSystem.temporarySibling(of: path)
        do {
            let tar = try TarWriter(try FileSink(creating: temporary), sourceDateEpoch: 0)
            try tar.append(.directory("blobs"))
            try tar.append(.directory("blobs/sha256"))
            var written = Set<String>()
            for descriptor in [image.manifest.config] + image.manifest.layers
            where written.insert(descriptor.digest.encoded).inserted {
                try blobs.verifyIntegrity(descriptor.digest, size: descriptor.size)
                let source = blobs.path(for: descriptor.digest)
                guard let size = blobs.size(of: descriptor.digest) else {
                    throw OCIError.blobNotFound(descriptor.digest, location: blobs.root)
                }
                try tar.append(
                    TarEntry(
                        path: BytePath("blobs/sha256/\(descriptor.digest.encoded)"),
                        kind: .regular(.file(path: BytePath(source), size: size))))
            }
            try tar.append(.file("manifest.json", Array(manifest)))
            try tar.finish()
            try FileSystem.rename(temporary, to: path)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
    }
}
