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
    /// Step layers still being written in the background; their entries in `layers` hold placeholders until
    /// `ImageBuilder.settle` fills them in.
    var pending: [PendingLayer] = []

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

/// A step's layer written on another thread while later steps run on top of its upper dir.
struct PendingLayer {
    /// Its index in `BuildState.layers`.
    let index: Int
    /// The step-cache key it is stored under once written.
    let key: Digest
    let outcome: StepRunner.Outcome
    let work: BackgroundWork<WrittenLayer>
}

/// Work running on a thread of its own; `get` waits for its result.
final class BackgroundWork<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        Thread.detachNewThread { [self] in
            result = Result { try work() }
            done.signal()
        }
    }

    func get() throws -> T {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
