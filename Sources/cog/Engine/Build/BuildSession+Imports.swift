import Foundation
import OCI

extension BuildSession {
    /// Runs the plan's steps. When a layer of a step taken from a registry cache cannot be fetched (the cache went
    /// away mid-build), that cache is given up on (its one warning) and the steps run again from the base: those
    /// that finished are in the local cache by then, so only what is missing is built.
    func runSteps() async throws {
        let start = state
        for attempt in 1... {
            do {
                for (offset, step) in steps.enumerated() {
                    if cancel.isSet { throw BuildError.interrupted }
                    try await execute(step, index: offset + 2)
                }
                try await registryCache.awaitImports()
                return
            } catch let failure as RegistryStepCache.ImportFailed {
                // Each failure gives up a cache or removes a damaged blob; a few are enough.
                if attempt > 3 { throw failure }
                try await settle()
                state = start
                progress.info("   going back to the base image without that cache")
            }
        }
    }

    /// A RUN step found in a registry cache: its layers join the image at once (their directories are named by
    /// their diffIDs) while they download and unpack in the background, so the next steps are looked up
    /// meanwhile; whatever reads the image's files waits for them first (`RegistryStepCache.awaitImports`).
    func importStep(_ hit: RegistryStepCache.Hit, run: RunStep, key: Digest, index: Int) {
        progress.step(index, of: total, "RUN \(run.summary)", cached: true)
        let bytes = hit.entry.layers.reduce(Int64(0)) { $0 + $1.descriptor.size }
        progress.info("   imported from the registry cache \(hit.source.name) (\(ByteCount(bytes)))")
        for entry in hit.entries {
            state.append(
                .written(
                    descriptor: entry.descriptor, diffID: entry.diffID,
                    directory: settings.paths.layers.directory(for: entry.diffID)),
                createdBy: "RUN \(run.command)", created: settings.created, label: entry.label)
        }
        var announce: (@Sendable (Descriptor) -> Void)?
        if let listener = onLayerWritten { announce = { descriptor in listener(descriptor, nil) } }
        registryCache.startImport(hit, key: key, cache: cache, paths: settings.paths, announce: announce)
        state.chainKey = key
    }
}
