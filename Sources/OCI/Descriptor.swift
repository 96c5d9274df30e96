/// A reference to content: media type, digest and size (image-spec descriptor.md).
public struct Descriptor: Hashable, Sendable, Codable {
    public var mediaType: MediaType
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(
        mediaType: MediaType, digest: Digest, size: Int64, urls: [String]? = nil,
        annotations: [String: String]? = nil, platform: Platform? = nil, artifactType: String? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }

    /// The annotation that names an image in an OCI layout's index.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
}
