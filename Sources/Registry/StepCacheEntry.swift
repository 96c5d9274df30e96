import Foundation
import OCI

/// One build step's cache entry as a registry holds it: an ordinary OCI image manifest tagged for the step's key
/// (`cog-step-<key hex>`), whose config is an image configuration naming the key (a label) and the layers' diffIDs,
/// and whose layers are the step's layer blobs, a split step's package names as layer annotations. Any registry
/// that stores images stores it (BuildKit's registry cache and kaniko's `--cache-repo` keep theirs as images too).
public struct StepCacheEntry: Sendable, Equatable {
    /// One layer of the step: its blob, its uncompressed digest, and the package it holds (split steps).
    public struct Layer: Sendable, Equatable {
        public var descriptor: Descriptor
        public var diffID: Digest
        public var label: String?

        public init(descriptor: Descriptor, diffID: Digest, label: String? = nil) {
            self.descriptor = descriptor
            self.diffID = diffID
            self.label = label
        }
    }

    /// The step's cache key (a digest of its inputs, never of a secret's content).
    public var key: Digest
    public var layers: [Layer]
    /// Facts the step found that are no layer (a whole build's entry keeps Cog's metadata here), by name; carried
    /// as config labels named `factLabelPrefix` + name.
    public var facts: [String: String]

    public init(key: Digest, layers: [Layer], facts: [String: String] = [:]) {
        self.key = key
        self.layers = layers
        self.facts = facts
    }

    /// The label of the config naming the key, and the annotation naming a layer's package.
    public static let keyLabel = "dev.cog.step-cache.key"
    public static let layerLabelAnnotation = "dev.cog.step-cache.label"
    public static let factLabelPrefix = "dev.cog.step-cache.fact."

    /// The tag of `key`'s entry: distribution-spec tags are `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, and a key's hex
    /// (64 characters) after the prefix fits.
    public static func tag(for key: Digest) -> String { "cog-step-\(key.encoded.prefix(100))" }

    /// The config document (canonical JSON, so every machine writes the same bytes for the same entry).
    func configuration() throws -> Data {
        var labels = [Self.keyLabel: key.description]
        for (name, value) in facts { labels[Self.factLabelPrefix + name] = value }
        return try CanonicalJSON.encode(
            ImageConfiguration(
                config: .init(labels: labels),
                rootfs: .init(diffIDs: layers.map(\.diffID))))
    }

    /// The manifest document, for a config of `config` bytes.
    func manifest(config: Data) throws -> Data {
        let layers = layers.map { layer in
            var descriptor = layer.descriptor
            descriptor.annotations = layer.label.map { [Self.layerLabelAnnotation: $0] }
            return descriptor
        }
        let manifest = ImageManifest(
            config: Descriptor(mediaType: .imageConfig, digest: try Digest.sha256(config), size: Int64(config.count)),
            layers: layers, annotations: [Self.keyLabel: key.description])
        return try CanonicalJSON.encode(manifest)
    }

    /// Reads an entry back from its manifest and config, refusing one that names another key or whose config
    /// does not list a diffID per layer.
    init(key: Digest, manifest: ImageManifest, configuration: ImageConfiguration, source: String) throws {
        let named = configuration.config?.labels?[Self.keyLabel]
        guard named == key.description else {
            throw RegistryError.protocolViolation(
                "\(source): the cache entry for \(key) names \(named ?? "no key") in its config")
        }
        guard !manifest.layers.isEmpty, configuration.rootfs.diffIDs.count == manifest.layers.count else {
            throw RegistryError.protocolViolation(
                "\(source): the cache entry for \(key) has \(manifest.layers.count) layers and \(configuration.rootfs.diffIDs.count) diffIDs"
            )
        }
        self.key = key
        var facts: [String: String] = [:]
        for (label, value) in configuration.config?.labels ?? [:] where label.hasPrefix(Self.factLabelPrefix) {
            facts[String(label.dropFirst(Self.factLabelPrefix.count))] = value
        }
        self.facts = facts
        layers = zip(manifest.layers, configuration.rootfs.diffIDs).map { descriptor, diffID in
            var plain = descriptor
            plain.annotations = nil
            return Layer(
                descriptor: plain, diffID: diffID, label: descriptor.annotations?[Self.layerLabelAnnotation])
        }
    }
}
