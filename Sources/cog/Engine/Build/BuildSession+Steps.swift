import Foundation
import Layers
import OCI

extension BuildSession {
    /// Runs one step of the plan (RUN steps in `BuildSession+Run.swift`).
    func execute(_ step: BuildStep, index: Int) async throws {
        switch step {
        case .env, .run: break
        // These read the image's tree (whether a directory exists, its mode): imported layers must be unpacked.
        case .workdir, .copyFile, .copyArtifacts, .copyProject: try await registryCache.awaitImports()
        }
        switch step {
        case .env(let variables):
            progress.step(
                index, of: total, "ENV " + variables.map { "\($0.name)=\($0.value)" }.joined(separator: " "),
                cached: false)
            for variable in variables {
                let current = state
                state.set(variable.name, variable.expandedValue { current.value(of: $0) })
            }
            state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            state.history.append(.init(created: settings.created, createdBy: "ENV", emptyLayer: true))
        case .workdir(let path):
            progress.step(index, of: total, "WORKDIR \(path)", cached: false)
            state.workingDirectory = path
            state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            if !state.exists(path) {
                try await addLayer(
                    entries: directoryEntries(for: String(path.drop { $0 == "/" })), createdBy: "WORKDIR \(path)")
            }
        case .copyFile(let path, let contents, let mode):
            progress.step(index, of: total, "COPY \(path)", cached: false)
            state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            var entries = fileEntries(path: String(path.drop { $0 == "/" }), contents: contents)
            entries[entries.count - 1].mode = mode
            try await addLayer(entries: entries, createdBy: "COPY \(path)")
        case .copyArtifacts(let artifacts):
            progress.step(index, of: total, "COPY local packages to \(LocalArtifact.directory)/", cached: false)
            state.chainKey = try StepCache.key(parent: state.chainKey, material: step.cacheKeyMaterial)
            try await addLayer(
                entries: try artifactEntries(artifacts),
                createdBy: "COPY local_package_artifacts/ \(LocalArtifact.directory)/")
        case .copyProject(let destination, let excludes):
            progress.step(index, of: total, "COPY . \(destination)", cached: false)
            chainKeyBeforeProject = state.chainKey
            try await copyProject(destination: destination, excludes: excludes)
        case .run(let run):
            try await runStep(run, material: step.cacheKeyMaterial, index: index)
        }
    }

    /// The package archives the requirements name, with the directories above them.
    private func artifactEntries(_ artifacts: [LocalArtifact]) throws -> [TarEntry] {
        var entries: [TarEntry] = []
        for artifact in artifacts {
            let path = String(artifact.target.drop { $0 == "/" })
            for parent in directoryEntries(for: (path as NSString).deletingLastPathComponent)
            where !entries.contains(where: { $0.path == parent.path }) { entries.append(parent) }
            var st = stat()
            guard stat(artifact.source, &st) == 0 else {
                throw BuildError.artifactUnreadable(
                    path: artifact.source, cause: SystemCallError("stat", path: artifact.source))
            }
            entries.append(
                TarEntry(
                    path: BytePath(path),
                    kind: .regular(.file(path: BytePath(artifact.source), size: Int64(st.st_size))),
                    mode: 0o644)
            )
        }
        return entries.sorted { layerOrder($0.path, $1.path) }
    }

    /// Writes `entries` as a layer and unpacks it into the layer store (off the cooperative pool).
    /// With `unpack` false the layer only goes into the blob store (a build taken whole from the caches).
    @discardableResult
    func addLayer(entries: [TarEntry], createdBy: String, label: String? = nil, unpack: Bool = true) async throws
        -> WrittenLayer
    {
        let (paths, options) = (settings.paths, settings.layers)
        let (layer, directory) = try await Blocking.run {
            let layer = try LayerWriter.write(entries: entries, to: paths.blobs, options: options)
            let blob = paths.blobs.path(for: layer.descriptor.digest)
            return (
                layer,
                unpack
                    ? try paths.layers.unpack(blob: blob, diffID: layer.diffID)
                    : paths.layers.directory(for: layer.diffID)
            )
        }
        state.append(
            .written(descriptor: layer.descriptor, diffID: layer.diffID, directory: directory), createdBy: createdBy,
            created: settings.created, label: label)
        layerWritten(layer.descriptor)
        return layer
    }

    /// `path` and the directories above it; those the image already has keep their mode and owner (a COPY to
    /// /tmp must not turn /tmp's 1777 into 0755), the others are created 0755 root's.
    func directoryEntries(for path: String) -> [TarEntry] {
        IgnoreMatcher.prefixes(of: path).map { directory in
            var entry = TarEntry.directory(directory)
            if let existing = state.directoryAttributes(directory) { (entry.mode, entry.uid, entry.gid) = existing }
            return entry
        }
    }

    /// A file and the directories above it.
    func fileEntries(path: String, contents: [UInt8]) -> [TarEntry] {
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? [] : directoryEntries(for: parent)) + [.file(path, contents)]
    }
}
