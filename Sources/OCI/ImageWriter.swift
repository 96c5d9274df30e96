import Foundation

/// Writes images: the one place where a configuration and layers become config and manifest blobs, and where an
/// image is added to a layout. Every caller (the build, the local image store, `--oci-out`, tests) goes through it.
public enum ImageWriter {
    /// Writes `configuration` and a manifest over `layers` into `store` (whose layer blobs must be there already).
    /// - Returns: the image as stored.
    /// - Throws: `OCIError.blobNotFound` for a layer missing from `store`, or the store's write errors.
    @discardableResult
    public static func write(
        configuration: ImageConfiguration, layers: [Descriptor], annotations: [String: String]? = nil,
        into store: BlobStore
    ) throws -> StoredImage {
        for layer in layers where !store.contains(layer.digest) {
            throw OCIError.blobNotFound(layer.digest, location: store.root)
        }
        let config = try EncodedDocument(configuration, mediaType: .imageConfig)
        try store.write(config.data)
        let manifest = ImageManifest(config: config.descriptor, layers: layers, annotations: annotations)
        let document = try EncodedDocument(manifest, mediaType: .imageManifest)
        try store.write(document.data)
        return StoredImage(descriptor: document.descriptor, manifest: manifest, configuration: configuration)
    }

    /// Adds `image` (its blobs in `source`) to `layout` under `name`: blobs are transferred with `transfer`
    /// (hard links for the cache's own stores, copies for outputs a person may edit), then the index names it.
    /// - Throws: `OCIError.corruptBlob` when a copied blob no longer matches its digest (removed from `source`).
    public static func add(
        _ image: StoredImage, from source: BlobStore, to layout: OCILayout, name: String?,
        transfer: BlobStore.Transfer
    ) throws {
        for descriptor in image.manifest.layers + [image.manifest.config, image.descriptor] {
            try layout.blobs.take(descriptor.digest, from: source, by: transfer)
        }
        try layout.name(image.descriptor, as: name)
    }

    /// Writes an image straight into `layout` and names it: `write` then `add` with nothing to transfer.
    @discardableResult
    public static func write(
        configuration: ImageConfiguration, layers: [Descriptor], annotations: [String: String]? = nil,
        to layout: OCILayout, name: String?
    ) throws -> StoredImage {
        let image = try write(
            configuration: configuration, layers: layers, annotations: annotations, into: layout.blobs)
        try add(image, from: layout.blobs, to: layout, name: name, transfer: .link)
        return image
    }
}
