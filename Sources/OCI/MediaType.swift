/// A media type as it appears in descriptors and `Content-Type` headers.
public struct MediaType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    // image-spec media-types.md
    public static let imageIndex: MediaType = "application/vnd.oci.image.index.v1+json"
    public static let imageManifest: MediaType = "application/vnd.oci.image.manifest.v1+json"
    public static let imageConfig: MediaType = "application/vnd.oci.image.config.v1+json"
    public static let imageLayer: MediaType = "application/vnd.oci.image.layer.v1.tar"
    public static let imageLayerGzip: MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let imageLayerZstd: MediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let layoutHeader: MediaType = "application/vnd.oci.layout.header.v1+json"

    // Docker image manifest v2 schema 2
    public static let dockerManifest: MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList: MediaType = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig: MediaType = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip: MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer: MediaType = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerForeignLayerGzip: MediaType = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// Manifests of either family.
    public var isManifest: Bool { self == .imageManifest || self == .dockerManifest }
    /// Indexes and manifest lists.
    public var isIndex: Bool { self == .imageIndex || self == .dockerManifestList }
    /// Layer blobs of either family, any compression.
    public var isLayer: Bool {
        [.imageLayer, .imageLayerGzip, .imageLayerZstd, .dockerLayer, .dockerLayerGzip, .dockerForeignLayerGzip]
            .contains(self)
    }

    /// The OCI media type for the same bytes: base images arrive with Docker types, our manifests are OCI.
    public var ociEquivalent: MediaType {
        switch self {
        case .dockerManifest: return .imageManifest
        case .dockerManifestList: return .imageIndex
        case .dockerConfig: return .imageConfig
        case .dockerLayerGzip, .dockerForeignLayerGzip: return .imageLayerGzip
        case .dockerLayer: return .imageLayer
        default: return self
        }
    }

    /// The compression a layer of this type carries.
    public var layerCompression: LayerCompression? {
        switch self {
        case .imageLayerGzip, .dockerLayerGzip, .dockerForeignLayerGzip: return .gzip
        case .imageLayerZstd: return .zstd
        case .imageLayer, .dockerLayer: return LayerCompression.none
        default: return nil
        }
    }

    /// Every manifest and index type, for an `Accept` header.
    public static let allManifestTypes: [MediaType] = [
        .imageManifest, .imageIndex, .dockerManifest, .dockerManifestList,
    ]
}

/// How a layer blob is compressed.
public enum LayerCompression: String, Sendable, CaseIterable {
    case gzip, zstd, none

    /// The OCI layer media type for this compression.
    public var layerMediaType: MediaType {
        switch self {
        case .gzip: return .imageLayerGzip
        case .zstd: return .imageLayerZstd
        case .none: return .imageLayer
        }
    }
}
