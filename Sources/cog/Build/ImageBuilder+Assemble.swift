import Foundation
import Layers
import OCI
import Registry

extension ImageBuilder {
    /// Writes the image config and the manifest (OCI media types, base layers' digests kept) into the store.
    func assemble(state: BuildState, base: StoredImage, baseReference: ImageReference, freeze: String, schema: String) throws -> StoredImage {
        var labels = base.configuration.config?.labels ?? [:]
        for (key, value) in plan.image.labels { labels[key] = value }
        labels["run.cog.pip_freeze"] = freeze
        labels["run.cog.openapi_schema"] = schema
        labels["org.opencontainers.image.base.name"] = baseReference.description
        labels["org.opencontainers.image.base.digest"] = base.descriptor.digest.description
        var ports: [String: EmptyObject] = [:]
        for port in plan.image.exposedPorts { ports[port] = EmptyObject() }
        var final = state
        for variable in plan.image.env where final.value(of: variable.name) == nil {
            final.set(variable.name, variable.expandedValue { final.value(of: $0) })
        }
        let configuration = ImageConfiguration(
            created: created, architecture: "amd64", os: "linux",
            config: .init(exposedPorts: ports, env: final.environmentList, entrypoint: plan.image.entrypoint, cmd: plan.image.cmd,
                          workingDir: plan.image.workingDir, labels: labels),
            rootfs: .init(diffIDs: state.layers.map(\.diffID)),
            history: state.history)
        let config = try EncodedDocument(configuration, mediaType: .imageConfig)
        try paths.blobs.write(config.data)
        let manifest = ImageManifest(
            config: config.descriptor, layers: state.layers.map(\.descriptor),
            annotations: ["org.opencontainers.image.base.name": baseReference.description,
                          "org.opencontainers.image.base.digest": base.descriptor.digest.description])
        let document = try EncodedDocument(manifest, mediaType: .imageManifest)
        try paths.blobs.write(document.data)
        return StoredImage(descriptor: document.descriptor, manifest: manifest, configuration: configuration)
    }
}
