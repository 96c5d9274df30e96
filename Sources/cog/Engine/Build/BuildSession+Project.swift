import Foundation
import Layers
import OCI

extension BuildSession {
    /// `COPY . /src` as layers: the model weights first, each file in a layer of its own, then the code; each
    /// layer cached by its files' identity, so a rebuild neither reads nor compresses unchanged files again. A code
    /// edit changes only the code layer, so a push uploads only that.
    /// With `unpack` false its layers only go into the blob store (a build taken whole from the caches).
    func copyProject(destination: String, excludes: [String], unpack: Bool = true) async throws {
        let files = ProjectFiles(directory: projectDirectory, excludes: excludes, ownState: [settings.paths.root])
        let (entries, sockets) = try await Blocking.run { try files.entries(destination: destination) }
        for socket in sockets {
            progress.warning("left out the socket /\(socket): a socket cannot be stored in an image")
        }
        let selection = WeightsSelection(
            entries: entries, prefix: String(destination.drop { $0 == "/" }), declared: plan.weightPaths,
            rule: settings.weights)
        var diffIDs: [Digest] = []
        for group in selection.groups {
            let label = group.compactMap { entry -> String? in
                guard case .regular = entry.kind else { return nil }
                return String(entry.path.description.dropFirst(destination.count))
            }.joined(separator: " ")
            let (diffID, size) = try await addProjectLayer(
                group, kind: "weights", createdBy: "COPY \(label) \(destination)/ (weights)", label: "weights \(label)",
                unpack: unpack)
            progress.info(
                "   weights \(label): " + (size.map { "layer of its own (\(ByteCount($0)))" } ?? "cached layer"))
            diffIDs.append(diffID)
        }
        diffIDs.append(
            try await addProjectLayer(
                selection.code + (try weightsManifestEntries(destination: destination)), kind: "code",
                createdBy: "COPY . \(destination)", label: nil, unpack: unpack
            ).diffID)
        state.chainKey = try StepCache.key(
            parent: state.chainKey, material: "copy-project " + diffIDs.map(\.description).joined(separator: " "))
    }

    /// A layer of project files, from the step cache when its files have not changed (same path, size, mtime,
    /// ctime, inode).
    /// - Returns: its diffID, and its compressed size when it was written now (nil: cached).
    private func addProjectLayer(
        _ entries: [TarEntry], kind: String, createdBy: String, label: String?, unpack: Bool
    ) async throws -> (diffID: Digest, written: Int64?) {
        let key = try StepCache.key(
            parent: StepCache.noParent, material: "\(kind) \(settings.layerMaterial)\n" + Self.identity(of: entries))
        if !settings.noCache, let cached = cache.lookup(key, blobs: settings.paths.blobs)?.first {
            let paths = settings.paths
            let directory = try await Blocking.run {
                unpack
                    ? try paths.layers.unpack(blob: paths.blobs.path(for: cached.digest), diffID: cached.diffID)
                    : paths.layers.directory(for: cached.diffID)
            }
            state.append(
                .written(descriptor: cached.descriptor, diffID: cached.diffID, directory: directory),
                createdBy: createdBy, created: settings.created, label: label)
            layerWritten(cached.descriptor)
            return (cached.diffID, nil)
        }
        let layer = try await addLayer(entries: entries, createdBy: createdBy, label: label, unpack: unpack)
        try cache.store([(layer, label)], for: key)
        return (layer.diffID, layer.descriptor.size)
    }

    /// What identifies a project layer's content without reading it: each entry's path, mode and owner, and each
    /// file's size, modification and change times (nanoseconds), device and inode.
    static func identity(of entries: [TarEntry]) -> String {
        entries.map { entry in
            var line = "\(entry.path) \(entry.mode) \(entry.uid) \(entry.gid) \(entry.mtime)"
            switch entry.kind {
            case .regular(.bytes(let bytes)): line += " bytes " + ((try? Digest.sha256(Data(bytes)).description) ?? "?")
            case .symlink(let target), .hardlink(let target): line += " -> \(target)"
            default: break
            }
            if case .regular(.file(let path, let size)) = entry.kind {
                var st = stat()
                let found = path.withCString { stat($0, &st) } == 0
                line +=
                    " \(size) "
                    + (found
                        ? "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec) \(st.st_dev) \(st.st_ino)"
                        : "?")
            }
            return line
        }.joined(separator: "\n")
    }
}

/// Which project entries go into weights layers: files of `rule.minimumBytes` or more, files under the paths
/// cog.yaml's `weights` name, and with `--separate-weights` Cog's rule (10 MiB or more, not code or media).
struct WeightsSelection {
    /// Each weights layer's entries: the directories above its files, then the files.
    let groups: [[TarEntry]]
    /// Everything else (every directory included), for the code layer.
    let code: [TarEntry]

    /// Suffixes Cog's `--separate-weights` never treats as weights (`pkg/weightslegacy`).
    static let legacyIgnoredSuffixes = [
        ".py", ".ipynb", ".whl", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".svg",
        ".mp4", ".mov", ".avi", ".mkv", ".webm", ".mp3", ".wav", ".flac", ".ogg", ".m4a", ".log",
    ]

    init(entries: [TarEntry], prefix: String, declared: [String], rule: WeightsSplit) {
        var chosen: [TarEntry] = []
        var rest: [TarEntry] = []
        for entry in entries {
            guard case .regular(.file(_, let size)) = entry.kind, let path = entry.path.string,
                path.hasPrefix(prefix + "/")
            else {
                rest.append(entry)
                continue
            }
            let relative = String(path.dropFirst(prefix.count + 1))
            let named = declared.contains { relative == $0 || relative.hasPrefix($0 + "/") }
            let legacy = rule.separateWeights && size >= 10 << 20 && Self.legacyCandidate(relative)
            if size >= rule.minimumBytes || named || legacy { chosen.append(entry) } else { rest.append(entry) }
        }
        chosen.sort { layerOrder($0.path, $1.path) }
        var batches: [[TarEntry]] = []
        for (index, file) in chosen.enumerated() {
            if index < max(1, rule.maximumLayers) {
                batches.append([file])
            } else {
                batches[batches.count - 1].append(file)
            }
        }
        var directories: [BytePath: TarEntry] = [:]
        for entry in entries where entry.kind == .directory { directories[entry.path] = entry }
        groups = batches.map { files in
            var above = Set<BytePath>()
            for file in files { above.formUnion(file.path.parents) }
            return (above.compactMap { directories[$0] } + files).sorted { layerOrder($0.path, $1.path) }
        }
        code = rest
    }

    static func legacyCandidate(_ relative: String) -> Bool {
        let lowered = relative.lowercased()
        let components = relative.split(separator: "/")
        if components.contains(where: { $0 == ".cog" || $0 == ".git" || $0 == "__pycache__" }) { return false }
        return !legacyIgnoredSuffixes.contains { lowered.hasSuffix($0) }
    }
}
