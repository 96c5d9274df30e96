import Foundation
import OCI
import Registry
import Synchronization

/// Which registry repositories a build uses as step caches besides the local one.
public struct RegistryCacheSettings: Sendable, Equatable {
    /// `--cache-from`: looked up, in order, for each step the local cache does not hold.
    public var importFrom: [ImageReference]
    /// `--cache-to`: every step of the build is stored there once it succeeds.
    public var exportTo: [ImageReference]

    public init(importFrom: [ImageReference] = [], exportTo: [ImageReference] = []) {
        self.importFrom = importFrom
        self.exportTo = exportTo
    }
}

/// The registry step caches of one build (`--cache-from`, `--cache-to`), reached as pushes reach a registry
/// (credentials, plain-HTTP rules). A cache that is down, refuses, or goes away mid-build only slows the build:
/// one warning, and the build goes on without it.
final class RegistryStepCache: Sendable {
    private let sources: [StepCacheRepository]
    private let targets: [StepCacheRepository]
    private let progress: any BuildProgress
    private let concurrency: Int
    /// Where blobs were pushed before (shared with `cog push`), so an export mounts instead of uploading.
    private let locations: BlobLocations
    /// Caches given up on, by name, after their first failure.
    private let failed = Mutex<Set<String>>([])
    /// The keys of this build's RUN steps, in order, for the export.
    private let keys = Mutex<[Digest]>([])

    init(settings: BuildSettings, progress: any BuildProgress) {
        self.progress = progress
        // A cache is an optimization: one quick retry, and no long wait for a host that does not answer.
        var registry = settings.registry
        registry.retry.maxAttempts = min(registry.retry.maxAttempts, 2)
        registry.retry.maxAttemptsUnanswered = 1
        registry.timeouts.connect = min(registry.timeouts.connect, 5)
        registry.timeouts.reply = min(registry.timeouts.reply ?? 10, 10)
        concurrency = registry.concurrency
        // Retries are not reported: a failing cache gets its one warning line from `giveUp`.
        let transfer = ImageTransfer(settings: registry, credentials: settings.credentials)
        var failures: [(String, Error)] = []
        func repositories(_ references: [ImageReference]) -> [StepCacheRepository] {
            references.compactMap { reference in
                do { return try StepCacheRepository(reference, transfer: transfer) } catch {
                    failures.append(("\(reference.registry)/\(reference.repository)", error))
                    return nil
                }
            }
        }
        sources = repositories(settings.registryCache.importFrom)
        targets = repositories(settings.registryCache.exportTo)
        locations = BlobLocations(directory: "\(settings.paths.root)/locations")
        for (name, error) in failures { giveUp(name, error) }
    }

    /// Records a RUN step of this build, for the export.
    func noteStep(_ key: Digest) { keys.withLock { $0.append(key) } }

    /// Looks `key` up in each `--cache-from` repository in turn. A hit's layers are downloaded into `blobs` (each
    /// checked against its digest) and recorded in the local `cache` as if the step had run here.
    /// - Returns: the entries and the name of the cache they came from; nil on a miss everywhere.
    /// - Throws: only when the local cache cannot record the entry; a failing registry is given up on instead.
    func importStep(_ key: Digest, into cache: StepCache, blobs: BlobStore) async throws -> (
        entries: [StepCache.Entry], source: String
    )? {
        for source in sources where usable(source.name) {
            let entry: StepCacheEntry
            do {
                guard let found = try await source.entry(for: key) else { continue }
                try await source.download(found, into: blobs, concurrency: concurrency)
                entry = found
            } catch {
                giveUp(source.name, error)
                continue
            }
            let entries = entry.layers.map { layer in
                StepCache.Entry(
                    digest: layer.descriptor.digest, diffID: layer.diffID, size: layer.descriptor.size,
                    mediaType: layer.descriptor.mediaType, label: layer.label)
            }
            try cache.store(entries: entries, for: key)
            return (entries, source.name)
        }
        return nil
    }

    /// Stores each RUN step of this build (as the local cache holds it) in every `--cache-to` repository that
    /// has no entry for its key yet; called once the steps have succeeded.
    func export(from cache: StepCache, blobs: BlobStore) async {
        let entries = keys.withLock { $0 }.compactMap { key in
            cache.lookup(key, blobs: blobs).map { layers in
                StepCacheEntry(
                    key: key,
                    layers: layers.map {
                        StepCacheEntry.Layer(descriptor: $0.descriptor, diffID: $0.diffID, label: $0.label)
                    })
            }
        }
        guard !entries.isEmpty else { return }
        for target in targets where usable(target.name) {
            let start = Date()
            var stored = 0
            do {
                for entry in entries {
                    if try await target.store(entry, from: blobs, locations: locations) { stored += 1 }
                }
            } catch {
                giveUp(target.name, error)
                continue
            }
            progress.info(
                "   registry cache \(target.name): \(stored) step\(stored == 1 ? "" : "s") stored, \(entries.count - stored) there already (\(BuildSession.seconds(since: start)))"
            )
        }
    }

    private func usable(_ name: String) -> Bool { !failed.withLock { $0.contains(name) } }

    /// The one warning for a cache that failed; it is not used again in this build.
    private func giveUp(_ name: String, _ error: Error) {
        guard failed.withLock({ $0.insert(name).inserted }) else { return }
        progress.warning("registry cache \(name) cannot be used: \(error); the build goes on without it")
    }
}
