import Foundation
import Layers
import OCI

/// The image as it grows during a build: its layers (bottom first), the environment, the working directory,
/// the history, and the cache key of everything so far.
struct ImageState {
    /// A layer of the image: written (blob and dir in the stores) or still being written by its step.
    enum Layer {
        case written(descriptor: Descriptor, diffID: Digest, directory: String)
        /// A step's layer whose blob is being written; `key` is the step-cache key it is stored under once done.
        case inProgress(LayerInProgress, key: Digest)

        /// Where its files are now (later steps stack on it).
        var directory: String {
            switch self {
            case .written(_, _, let directory): return directory
            case .inProgress(let layer, _): return layer.directory
            }
        }
    }

    var layers: [Layer] = []
    /// `NAME=value` in order, as the image config carries them.
    var environment: [(name: String, value: String)] = []
    var workingDirectory: String
    var history: [ImageConfiguration.History]
    var chainKey: Digest

    var environmentList: [String] { environment.map { "\($0.name)=\($0.value)" } }

    func value(of name: String) -> String? { environment.last { $0.name == name }?.value }

    mutating func set(_ name: String, _ value: String) {
        if let index = environment.firstIndex(where: { $0.name == name }) {
            environment[index].value = value
        } else {
            environment.append((name, value))
        }
    }

    /// Adds a layer and its history entry; `label` names the package a layer of a split step holds.
    mutating func append(_ layer: Layer, createdBy: String, created: String, label: String? = nil) {
        layers.append(layer)
        history.append(
            .init(created: created, createdBy: createdBy, comment: "cog (daemonless)" + (label.map { ": \($0)" } ?? ""))
        )
    }

    /// The layers as capture methods see them, bottom first (a layer still being written has no blob yet).
    func stack(blobs: BlobStore) -> [StackedLayer] {
        layers.map { layer in
            switch layer {
            case .written(let descriptor, _, let directory):
                StackedLayer(blob: blobs.path(for: descriptor.digest), directory: directory)
            case .inProgress(let layer, _): StackedLayer(blob: nil, directory: layer.directory)
            }
        }
    }

    /// Lower dirs, top-most first.
    var lowerDirectories: [String] { layers.reversed().map(\.directory) }

    /// Mode and owner of the directory at `path` in the merged tree (the top-most layer holding it), or nil when
    /// it is not a directory there. Owners on disk are the image's only as root (or in cog's user namespace).
    func directoryAttributes(_ path: String) -> (mode: UInt32, uid: Int, gid: Int)? {
        let relative = path.drop { $0 == "/" }
        for directory in lowerDirectories {
            var st = stat()
            guard lstat("\(directory)/\(relative)", &st) == 0 else { continue }
            guard st.st_mode & S_IFMT == S_IFDIR else { return nil }
            let owners = geteuid() == 0 ? (Int(st.st_uid), Int(st.st_gid)) : (0, 0)
            return (UInt32(st.st_mode & 0o7777), owners.0, owners.1)
        }
        return nil
    }

    /// Whether `path` exists in the merged tree (checked top-down; whiteouts are not consulted).
    func exists(_ path: String) -> Bool {
        let relative = path.drop { $0 == "/" }
        return lowerDirectories.contains { FileSystem.exists("\($0)/\(relative)") }
    }
}
