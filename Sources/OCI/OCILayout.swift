import Foundation

/// An OCI image layout directory (image-spec image-layout.md): `oci-layout`, `index.json`, `blobs/`.
public struct OCILayout: Sendable {
    public let root: String
    public let blobs: BlobStore

    private init(root: String) {
        self.root = root
        self.blobs = BlobStore(root: "\(root)/blobs")
    }

    /// Creates a layout at `root` (the directory may exist and be empty, or already be a layout).
    public static func create(at root: String) throws -> OCILayout {
        let layout = OCILayout(root: root)
        try FileSystem.makeDirectory("\(root)/blobs/sha256")
        if !FileSystem.exists("\(root)/oci-layout") {
            try FileSystem.writeAtomically(
                try CanonicalJSON.encode(["imageLayoutVersion": "1.0.0"]), to: "\(root)/oci-layout")
        }
        if !FileSystem.exists("\(root)/index.json") {
            try layout.writeIndex(ImageIndex(manifests: []))
        }
        return layout
    }

    /// Opens an existing layout.
    /// - Throws: `OCIError.invalidLayout` when `oci-layout` is missing or names another version.
    public static func open(_ root: String) throws -> OCILayout {
        let marker = "\(root)/oci-layout"
        guard FileSystem.exists(marker) else {
            throw OCIError.invalidLayout(
                path: root, reason: "no oci-layout file (was it written by `cog build --oci-out`?)")
        }
        let header = try CanonicalJSON.decode(
            [String: String].self, from: try FileSystem.read(marker), what: "\(marker)")
        guard let version = header["imageLayoutVersion"], version.hasPrefix("1.") else {
            throw OCIError.invalidLayout(
                path: root, reason: "unsupported imageLayoutVersion \(header["imageLayoutVersion"] ?? "(none)")")
        }
        return OCILayout(root: root)
    }

    // MARK: index

    public func index() throws -> ImageIndex {
        let path = "\(root)/index.json"
        return try CanonicalJSON.decode(ImageIndex.self, from: try FileSystem.read(path), what: path)
    }

    public func writeIndex(_ index: ImageIndex) throws {
        try FileSystem.writeAtomically(try CanonicalJSON.encode(index), to: "\(root)/index.json")
    }

    /// Lists the manifest `descriptor` (its blob already in `blobs`) in `index.json` under `name`, replacing an
    /// entry of the same name.
    @discardableResult
    public func name(_ descriptor: Descriptor, as name: String?, platform: Platform? = .linuxAMD64) throws -> Descriptor
    {
        var listed = descriptor
        listed.platform = platform
        if let name { listed.annotations = [Descriptor.refNameAnnotation: name] }
        var current = try index()
        if let name {
            current.manifests.removeAll { $0.annotations?[Descriptor.refNameAnnotation] == name }
        }
        current.manifests.append(listed)
        try writeIndex(current)
        return listed
    }

    // MARK: reading

    /// Reads and decodes the document a descriptor names, checking digest and size.
    public func document<T: Decodable>(_ type: T.Type, for descriptor: Descriptor) throws -> T {
        try CanonicalJSON.decode(
            type, from: try blobs.read(descriptor), what: "\(descriptor.mediaType) \(descriptor.digest)")
    }

    /// The manifest descriptor named `name`, or the only one when `name` is nil.
    public func manifestDescriptor(named name: String?) throws -> Descriptor {
        let manifests = try index().manifests
        let names = manifests.compactMap { $0.annotations?[Descriptor.refNameAnnotation] }
        if let name {
            guard let found = manifests.last(where: { $0.annotations?[Descriptor.refNameAnnotation] == name }) else {
                throw OCIError.referenceNotFound(name, available: names)
            }
            return found
        }
        guard manifests.count == 1, let only = manifests.first else {
            throw OCIError.invalidLayout(
                path: root,
                reason: manifests.isEmpty
                    ? "index.json lists no images"
                    : "index.json lists \(manifests.count) images; name one (\(names.joined(separator: ", ")))")
        }
        return only
    }

    /// Reads a whole image: manifest descriptor, manifest and configuration. Resolves one level of index.
    public func image(named name: String?, platform: Platform = .linuxAMD64) throws -> StoredImage {
        var descriptor = try manifestDescriptor(named: name)
        if descriptor.mediaType.isIndex {
            let nested = try document(ImageIndex.self, for: descriptor)
            guard let chosen = nested.manifest(for: platform) else {
                throw OCIError.invalidLayout(
                    path: root, reason: "no \(platform) manifest in index \(descriptor.digest)")
            }
            descriptor = chosen
        }
        let manifest = try document(ImageManifest.self, for: descriptor)
        let configuration = try document(ImageConfiguration.self, for: manifest.config)
        return StoredImage(descriptor: descriptor, manifest: manifest, configuration: configuration)
    }

    /// Checks every blob an image refers to: present, right size, right digest.
    public func verify(_ image: StoredImage) throws {
        for descriptor in [image.manifest.config] + image.manifest.layers {
            try blobs.verify(descriptor.digest, size: descriptor.size)
        }
    }
}

/// An image read back from a store: its manifest descriptor, manifest and configuration.
public struct StoredImage: Sendable {
    public let descriptor: Descriptor
    public let manifest: ImageManifest
    public let configuration: ImageConfiguration

    public init(descriptor: Descriptor, manifest: ImageManifest, configuration: ImageConfiguration) {
        self.descriptor = descriptor
        self.manifest = manifest
        self.configuration = configuration
    }
}
