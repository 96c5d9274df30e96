import Foundation
import Layers
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

    /// Records a RUN step of this build (or the whole build's entry), for the export.
    func noteStep(_ key: Digest) { keys.withLock { $0.append(key) } }

    /// A step found in a `--cache-from` repository: its entry, the entries the local cache gets for it, and the
    /// cache's name.
    struct Hit: Sendable {
        let entry: StepCacheEntry
        let source: StepCacheRepository
        var entries: [StepCache.Entry] {
            entry.layers.map { layer in
                StepCache.Entry(
                    digest: layer.descriptor.digest, diffID: layer.diffID, size: layer.descriptor.size,
                    mediaType: layer.descriptor.mediaType, label: layer.label)
            }
        }
    }

    /// A layer of a registry cache could not be fetched after its step was taken from there: the build goes back
    /// to the base without that cache (`BuildSession.runSteps`).
    struct ImportFailed: Error, CustomStringConvertible {
        var description: String {
            "layers taken from a registry cache could not be fetched or unpacked (see the warnings)"
        }
    }

    /// Imports still downloading or unpacking, in step order.
    private let pending = Mutex<[Task<Void, Error>]>([])

    /// Answers given so far, by key: a build taken whole from the caches that turns out not to be asks again.
    private let answers = Mutex<[Digest: Hit?]>([:])

    /// Looks `key` up in each `--cache-from` repository in turn (a manifest and a config: two small requests).
    /// - Returns: the first hit; nil on a miss everywhere (a failing cache is given up on, with its warning).
    func lookup(_ key: Digest) async -> Hit? {
        if let answer = answers.withLock({ $0[key] }), answer.map({ usable($0.source.name) }) ?? true {
            return answer
        }
        var found: Hit?
        for source in sources where usable(source.name) {
            do {
                if let entry = try await source.entry(for: key) {
                    found = Hit(entry: entry, source: source)
                    break
                }
            } catch {
                giveUp(source.name, error)
            }
        }
        answers.withLock { $0[key] = found }
        return found
    }

    /// Downloads a hit's layers into `blobs` (those not there yet, each checked against its digest), neither
    /// unpacking them nor checking their diffIDs: a build taken whole from the caches puts them into the image as
    /// the entry describes them (BuildKit's lazy cache imports do the same), and what the local cache records of
    /// them is checked when it is first unpacked (`StepCache.Entry.unchecked`).
    /// - Throws: `ImportFailed` once the cache was given up on (its warning).
    func fetch(_ hit: Hit, into blobs: BlobStore) async throws {
        do {
            try await hit.source.download(hit.entry, into: blobs, concurrency: concurrency)
        } catch {
            giveUp(hit.source.name, error)
            throw ImportFailed()
        }
    }

    /// Starts fetching a hit's layers into `paths.blobs` (each checked against its digest and its diffID), unpacks
    /// them into the layer store and records them in the local `cache` as if the step had run here, while the build goes on
    /// with the next steps; `announce` is told of each blob once it is stored. `awaitImports` waits for it.
    func startImport(
        _ hit: Hit, key: Digest, cache: StepCache, paths: CogPaths, announce: (@Sendable (Descriptor) -> Void)?
    ) {
        let (concurrency, name) = (concurrency, hit.source.name)
        let task = Task { [self] in
            do {
                try await hit.source.download(hit.entry, into: paths.blobs, concurrency: concurrency)
            } catch {
                giveUp(name, error)
                throw ImportFailed()
            }
            let layers = paths.layers
            let blobs = paths.blobs
            do {
                _ = try await Blocking.run {
                    try hit.entry.layers.map { layer in
                        try layers.unpack(blob: blobs.path(for: layer.descriptor.digest), diffID: layer.diffID) {
                            try blobs.verifyIntegrity(layer.descriptor.digest, size: layer.descriptor.size)
                            // The entry's word for the uncompressed content is checked before the layer store
                            // files it under that name, where every later build would trust it.
                            try DiffIDMismatch.check(layer.descriptor.digest, in: blobs, claimed: layer.diffID)
                        }
                    }
                }
            } catch OCIError.corruptBlob(let digest, let path, let found, let removed) {
                // Damaged on disk since it arrived: removed, so going back fetches it again.
                progress.warning(
                    "\(OCIError.corruptBlob(digest, path: path, found: found, removed: removed)); fetching it again")
                throw ImportFailed()
            } catch {
                // A layer that does not unpack or is not what its entry says: the cache is not used again.
                giveUp(name, error)
                throw ImportFailed()
            }
            // Recorded only once unpacked and checked: a later build trusts the local cache without looking again.
            try cache.store(entries: hit.entries, for: key)
            for layer in hit.entry.layers { announce?(layer.descriptor) }
        }
        pending.withLock { $0.append(task) }
    }

    /// Waits until every import started has its layers unpacked.
    /// - Throws: `ImportFailed` when a cache failed under one (after all have ended), or what unpacking threw.
    func awaitImports() async throws {
        let tasks = pending.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        var failure: Error?
        for task in tasks {
            do { try await task.value } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// Stores each RUN step of this build (as the local cache holds it) in every `--cache-to` repository that
    /// has no entry for its key yet; called once the steps have succeeded.
    func export(from cache: StepCache, blobs: BlobStore) async {
        var seen = Set<Digest>()
        // A build that went back to the base after a failed import noted its steps twice.
        let ordered = keys.withLock { $0 }.filter { seen.insert($0).inserted }
        let entries = ordered.compactMap { key in
            cache.lookupWithFacts(key, blobs: blobs).map { found in
                StepCacheEntry(
                    key: key,
                    layers: found.layers.map {
                        StepCacheEntry.Layer(descriptor: $0.descriptor, diffID: $0.diffID, label: $0.label)
                    }, facts: found.facts)
            }
        }
        guard !entries.isEmpty else { return }
        for target in targets where usable(target.name) {
            let start = Date()
            var stored = 0
            var whole = ""
            do {
                for entry in entries {
                    let new = try await target.store(entry, from: blobs, locations: locations)
                    if entry.facts.isEmpty {
                        stored += new ? 1 : 0
                    } else {
                        whole = new ? "; the whole build stored" : "; the whole build there already"
                    }
                }
            } catch {
                giveUp(target.name, error)
                continue
            }
            let steps = entries.filter(\.facts.isEmpty).count
            progress.info(
                "   registry cache \(target.name): \(stored) step\(stored == 1 ? "" : "s") stored, \(steps - stored) there already\(whole) (\(BuildSession.seconds(since: start)))"
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

/// A registry cache entry's layer whose uncompressed content is not what the entry's diffID says.
struct DiffIDMismatch: Error, CustomStringConvertible {
    let blob: Digest
    let claimed: Digest
    let found: Digest

    /// Throws when the blob `digest` in `blobs` does not uncompress to `claimed` (a pass over the whole layer).
    static func check(_ digest: Digest, in blobs: BlobStore, claimed: Digest) throws {
        let found = try UncompressedDigest.of(blob: blobs.path(for: digest))
        guard found == claimed else { throw DiffIDMismatch(blob: digest, claimed: claimed, found: found) }
    }

    var description: String {
        "layer \(blob) uncompresses to \(found), not to the \(claimed) its cache entry claims (a poisoned or broken entry)"
    }
}
