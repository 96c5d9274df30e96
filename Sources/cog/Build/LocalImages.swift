import Foundation
import OCI

/// The local image store behind `-t NAME`: an OCI layout at `<cache>/images` whose index names each image by
/// its full name; blobs are hard links into the content store.
struct LocalImages {
    let paths: CogPaths

    var layout: OCILayout { get throws { try OCILayout.create(at: paths.images) } }

    func save(_ image: StoredImage, name: String) throws {
        try Self.copy(image, from: paths.blobs, to: try layout, name: name)
    }

    func load(name: String) throws -> StoredImage {
        let layout = try self.layout
        let names = try layout.index().manifests.compactMap { $0.annotations?[Descriptor.refNameAnnotation] }
        let wanted = names.contains(name) ? name : (names.contains("\(name):latest") ? "\(name):latest" : name)
        return try layout.image(named: wanted)
    }

    /// Copies (hard-links) an image's blobs and lists it in the layout's index under `name`.
    static func copy(_ image: StoredImage, from blobs: BlobStore, to layout: OCILayout, name: String) throws {
        for descriptor in image.manifest.layers + [image.manifest.config, image.descriptor] {
            try layout.blobs.link(descriptor.digest, from: blobs)
        }
        var descriptor = image.descriptor
        descriptor.platform = .linuxAMD64
        descriptor.annotations = [Descriptor.refNameAnnotation: name]
        var index = try layout.index()
        index.manifests.removeAll { $0.annotations?[Descriptor.refNameAnnotation] == name }
        index.manifests.append(descriptor)
        try layout.writeIndex(index)
    }
}
