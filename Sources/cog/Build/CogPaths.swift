import Foundation
import Layers
import OCI

/// The machine-wide state of cog: one root (`$COG_CACHE_DIR`, else `$XDG_CACHE_HOME/cog`, else `~/.cache/cog`).
struct CogPaths: Sendable {
    let root: String

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> CogPaths {
        if let dir = environment["COG_CACHE_DIR"], !dir.isEmpty { return CogPaths(root: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return CogPaths(root: "\(xdg)/cog") }
        return CogPaths(root: "\(environment["HOME"] ?? NSHomeDirectory())/.cache/cog")
    }

    /// Every blob: pulled base layers, built layers, configs, manifests.
    var blobs: BlobStore { BlobStore(root: "\(root)/blobs") }
    /// Layers unpacked once, the overlay lower dirs. A single-mapping rootless build keeps its own: its files all
    /// belong to the caller, which a build that keeps owners (root, or cog's user namespace) must not reuse.
    var layers: LayerStore { LayerStore(root: "\(root)/\(IDMapping.detect() == .single ? "layers-single" : "layers")") }
    /// Step cache entries.
    var steps: String { "\(root)/steps" }
    /// The local image store behind `-t NAME`.
    var images: String { "\(root)/images" }
}
