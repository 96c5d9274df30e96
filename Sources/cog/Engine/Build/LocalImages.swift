import Foundation
import OCI

/// The local image store behind `-t NAME`: an OCI layout at `<cache>/images` whose index names each image by
/// its full name; its blobs are hard links into the content store (both belong to the cache).
public struct LocalImages: Sendable {
    public let paths: CogPaths

    public init(paths: CogPaths) { self.paths = paths }

    var layout: OCILayout { get throws { try OCILayout.create(at: paths.images) } }

    /// Names `image` in the store; builds saving at once each keep their name (the index is locked while
    /// it is read and rewritten).
    public func save(_ image: StoredImage, name: String) throws {
        try FileSystem.makeDirectory(paths.root)
        try FileLock.withLock("\(paths.root)/images.lock") {
            try ImageWriter.add(image, from: paths.blobs, to: try layout, name: name, transfer: .link)
        }
    }

    /// Drops a blob found corrupt in the content store from the image store too (it holds a hard link to it).
    public func discard(_ digest: Digest) {
        if let layout = try? layout { layout.blobs.remove(digest) }
    }

    public func load(name: String) throws -> StoredImage {
        let layout = try self.layout
        let names = try layout.index().manifests.compactMap { $0.annotations?[Descriptor.refNameAnnotation] }
        let wanted = names.contains(name) ? name : (names.contains("\(name):latest") ? "\(name):latest" : name)
        return try layout.image(named: wanted)
    }
}
