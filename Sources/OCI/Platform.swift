/// The platform an image runs on (image-spec image-index.md).
public struct Platform: Hashable, Sendable, Codable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?

    public init(
        architecture: String, os: String, osVersion: String? = nil, osFeatures: [String]? = nil, variant: String? = nil
    ) {
        self.architecture = architecture
        self.os = os
        self.osVersion = osVersion
        self.osFeatures = osFeatures
        self.variant = variant
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    /// Cog images are always linux/amd64 (Cog forces the platform).
    public static let linuxAMD64 = Platform(architecture: "amd64", os: "linux")

    /// BuildKit attestation manifests in an index carry `unknown/unknown`.
    public var isUnknown: Bool { architecture == "unknown" && os == "unknown" }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}
