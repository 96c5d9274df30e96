import Foundation
import Layers
import OCI

/// The image as it grows during a build: layers (bottom first) with their unpacked dirs, the environment, the
/// working directory, the history, and the cache key of everything so far.
struct BuildState {
    struct Layer {
        var descriptor: Descriptor
        var diffID: Digest
        var directory: String
    }

    var layers: [Layer]
    /// `NAME=value` in order, as the image config carries them.
    var environment: [(name: String, value: String)]
    var workingDirectory: String
    var history: [ImageConfiguration.History]
    var chainKey: Digest

    /// Lower dirs for the sandbox, top-most first.
    var lowerDirectories: [String] { layers.reversed().map(\.directory) }

    var environmentList: [String] { environment.map { "\($0.name)=\($0.value)" } }

    func value(of name: String) -> String? { environment.last { $0.name == name }?.value }

    mutating func set(_ name: String, _ value: String) {
        if let index = environment.firstIndex(where: { $0.name == name }) {
            environment[index].value = value
        } else {
            environment.append((name, value))
        }
    }

    mutating func append(_ layer: WrittenLayer, directory: String, createdBy: String, created: String) {
        layers.append(Layer(descriptor: layer.descriptor, diffID: layer.diffID, directory: directory))
        history.append(.init(created: created, createdBy: createdBy, comment: "cog (daemonless)"))
    }

    /// Whether `path` exists in the merged tree (checked top-down; whiteouts are not consulted).
    func exists(_ path: String) -> Bool {
        let relative = path.drop { $0 == "/" }
        return lowerDirectories.contains { FileSystem.exists("\($0)/\(relative)") }
    }
}
