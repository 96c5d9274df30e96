import Foundation
import OCI
import Registry

/// The model bundle `cog push` writes when the project has a model reference (the weights spec, §2.6): an OCI
/// index under the model's tag holding the image (pushed as `cog-image.<tag>`) and every weight's manifest (pushed
/// by `cog weights import`), each weight with its name, set digest and size as annotations.
public struct WeightBundle: Sendable {
    public let model: ModelReference
    let lock: WeightsLock

    /// The model's bundle, once `weights.lock` agrees with cog.yaml (Cog's drift check).
    /// - Throws: `WeightsError` when the lockfile is missing or out of date, or `COG_MODEL` pins a digest.
    public init(model: ModelReference, loaded: LoadedConfig) throws {
        if let digest = model.digest {
            throw WeightsError.usage(
                "cannot push to digest-pinned ref \"\(model.repositoryName)@\(digest)\": model push requires a tag")
        }
        try WeightStatus.checkDrift(loaded: loaded)
        self.model = model
        lock = try WeightsLock.load(projectDirectory: loaded.projectDirectory) ?? WeightsLock()
    }

    public var weightCount: Int { lock.weights.count }

    /// Where the image goes: the model's repository, tag `cog-image.<tag>`.
    public var imageReference: String { "\(model.repositoryName):cog-image.\(model.tag)" }

    /// Checks each weight's manifest is in the registry, puts the index under the model's tag and returns the
    /// lines of the tree Cog prints (the index, the image, each weight).
    public func finish(image: Descriptor, transfer: ImageTransfer) async throws -> (digest: Digest, tree: [String]) {
        let client = try client(transfer)
        let weights = try await manifests(client)
        return try await putIndex(image: image, weights: weights, client: client)
    }

    /// Checks that every weight of the lockfile is in the registry (before anything is pushed, as a push needs them).
    public func verify(transfer: ImageTransfer) async throws { _ = try await manifests(try client(transfer)) }

    private func client(_ transfer: ImageTransfer) throws -> RegistryClient {
        try transfer.client(for: model.registry)
    }

    private func manifests(_ client: RegistryClient) async throws -> [(entry: WeightsLock.Entry, manifest: Descriptor)]
    {
        var weights: [(entry: WeightsLock.Entry, manifest: Descriptor)] = []
        for entry in lock.weights {
            do {
                weights.append((entry, try await client.resolve(repository: model.repository, reference: entry.digest)))
            } catch {
                throw WeightsError.usage(
                    "weight \"\(entry.name)\" not found in registry (\(model.repositoryName)@\(entry.digest)); run 'cog weights import' to push weights first: \(error)"
                )
            }
        }
        return weights
    }

    private func putIndex(
        image: Descriptor, weights: [(entry: WeightsLock.Entry, manifest: Descriptor)], client: RegistryClient
    ) async throws -> (digest: Digest, tree: [String]) {
        func platform(_ architecture: String, _ os: String) -> OrderedJSON {
            .object([("architecture", .string(architecture)), ("os", .string(os))])
        }
        let imageEntry = OrderedJSON.object([
            ("mediaType", .string(image.mediaType.rawValue)), ("size", .integer(image.size)),
            ("digest", .string(image.digest.description)), ("platform", platform("amd64", "linux")),
        ])
        let weightEntries = weights.map { entry, manifest in
            OrderedJSON.object([
                ("mediaType", .string(MediaType.imageManifest.rawValue)), ("size", .integer(manifest.size)),
                ("digest", .string(manifest.digest.description)),
                (
                    "annotations",
                    .object([
                        (WeightArtifact.nameAnnotation, .string(entry.name)),
                        (WeightArtifact.setDigestAnnotation, .string(entry.setDigest)),
                        (WeightArtifact.uncompressedSizeAnnotation, .string(String(entry.size))),
                    ])
                ),
                ("platform", platform("unknown", "unknown")), ("artifactType", .string(WeightArtifact.artifactType)),
            ])
        }
        let index = OrderedJSON.object([
            ("schemaVersion", .integer(2)), ("mediaType", .string(MediaType.imageIndex.rawValue)),
            ("manifests", .array([imageEntry] + weightEntries)),
        ]).compact
        _ = try await client.putManifest(
            repository: model.repository, reference: model.tag, data: index, mediaType: .imageIndex)
        let digest = try Digest.sha256(index)
        let name = model.repositoryName
        let width = weights.map(\.entry.name.count).max() ?? 0
        var tree = ["  \(Self.pad("model", 6))  \(name)@\(digest)"]
        tree.append("  \(weights.isEmpty ? "└─" : "├─") \(Self.pad("image", 6))  \(name)@\(image.digest)")
        for (index, weight) in weights.enumerated() {
            let branch = index == weights.count - 1 ? "└─" : "├─"
            tree.append(
                "  \(branch) \(Self.pad("weight", 6))  \(Self.pad(weight.entry.name, width))  \(name)@\(weight.manifest.digest)"
            )
        }
        return (digest, tree)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
