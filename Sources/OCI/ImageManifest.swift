/// An image manifest (image-spec manifest.md); decodes Docker schema 2 manifests too.
public struct ImageManifest: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2, mediaType: MediaType? = .imageManifest, artifactType: String? = nil,
        config: Descriptor, layers: [Descriptor], subject: Descriptor? = nil, annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = subject
        self.annotations = annotations
    }

    /// The same manifest with every Docker media type rewritten to its OCI equivalent; digests unchanged.
    public var withOCIMediaTypes: ImageManifest {
        var copy = self
        copy.mediaType = .imageManifest
        copy.config.mediaType = config.mediaType.ociEquivalent
        copy.layers = layers.map {
            var layer = $0
            layer.mediaType = $0.mediaType.ociEquivalent
            return layer
        }
        return copy
    }
}
