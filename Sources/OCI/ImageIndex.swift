/// An image index (image-spec image-index.md); decodes Docker manifest lists too.
public struct ImageIndex: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2, mediaType: MediaType? = .imageIndex, artifactType: String? = nil,
        manifests: [Descriptor], subject: Descriptor? = nil, annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.manifests = manifests
        self.subject = subject
        self.annotations = annotations
    }

    /// The manifest for `platform`, skipping attestation entries (`unknown/unknown`).
    public func manifest(for platform: Platform) -> Descriptor? {
        manifests.first { descriptor in
            guard let candidate = descriptor.platform, !candidate.isUnknown else { return false }
            return candidate.os == platform.os && candidate.architecture == platform.architecture
                && (platform.variant == nil || candidate.variant == platform.variant)
        }
    }
}
