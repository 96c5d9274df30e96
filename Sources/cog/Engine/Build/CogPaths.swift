import Foundation
import Layers
import OCI

/// The machine-wide state of cog under one root (the command line picks it: `$COG_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/cog`, else `~/.cache/cog`).
public struct CogPaths: Sendable {
    public let root: String
    /// Single-mapping rootless builds keep layer dirs of their own (see `layers`).
    public let mapping: IDMapping

    public init(root: String, mapping: IDMapping) {
        self.root = root
        self.mapping = mapping
    }

    /// Every blob: pulled base layers, built layers, configs, manifests.
    public var blobs: BlobStore { BlobStore(root: "\(root)/blobs", removesCorruptBlobs: true) }
    /// Layers unpacked once, the overlay lower dirs. A single-mapping rootless build keeps its own: its files all
    /// belong to the caller, which a build that keeps owners (root, or cog's user namespace) must not reuse.
    public var layers: LayerStore { LayerStore(root: "\(root)/\(mapping == .single ? "layers-single" : "layers")") }
    /// Step cache entries.
    public var steps: String { "\(root)/steps" }
    /// The local image store behind `-t NAME`.
    public var images: String { "\(root)/images" }
    /// Step work dirs, secret files, snapshot trees.
    public var scratch: String { "\(root)/scratch" }
}
