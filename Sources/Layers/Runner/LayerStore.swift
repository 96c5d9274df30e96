import Foundation
import OCI

/// Layers unpacked once per machine, `<root>/sha256/<diffID hex>/`, read-only afterwards; they are the overlay
/// lower dirs of every build that uses them. OCI whiteouts are stored in overlayfs form with `user.overlay.*`
/// xattrs, so root and rootless builds share one format (the sandbox mounts with `userxattr`).
public struct LayerStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(for diffID: Digest) -> String { "\(root)/\(diffID.algorithm.rawValue)/\(diffID.encoded)" }

    public func contains(_ diffID: Digest) -> Bool { FileSystem.exists(directory(for: diffID)) }

    /// Unpacks the layer blob at `blob` unless already unpacked; safe against concurrent builds (a lock per
    /// layer, extraction into a temporary name, then a rename).
    /// - Parameter verify: called first when the layer is really unpacked (checks the blob's digest).
    @discardableResult
    public func unpack(blob: String, diffID: Digest, verify: (() throws -> Void)? = nil) throws -> String {
        let target = directory(for: diffID)
        if FileSystem.exists(target) { return target }
        try FileSystem.makeDirectory("\(root)/\(diffID.algorithm.rawValue)")
        return try withLock(diffID) {
            if FileSystem.exists(target) { return target }
            try verify?()
            let temporary = FileSystem.temporarySibling(of: target)
            do {
                var extractor = LayerExtractor(target: temporary)
                extractor.whiteouts = .overlay(xattrNamespace: "user")
                extractor.skipDevices = true  // steps run with a minimal /dev of their own
                try extractor.extract(layerPath: blob)
                try FileSystem.rename(temporary, to: target)
            } catch {
                FileSystem.remove(temporary)
                throw error
            }
            return target
        }
    }

    /// Moves a directory that already holds exactly a layer's content (a step's cleaned upper dir) into the
    /// store, saving an extraction.
    public func adopt(directory source: String, diffID: Digest) throws -> String {
        let target = directory(for: diffID)
        try FileSystem.makeDirectory("\(root)/\(diffID.algorithm.rawValue)")
        return try withLock(diffID) {
            if FileSystem.exists(target) {
                FileSystem.remove(source)
                return target
            }
            try FileSystem.rename(source, to: target)
            return target
        }
    }

    private func withLock<T>(_ diffID: Digest, _ body: () throws -> T) throws -> T {
        try FileLock.withLock("\(directory(for: diffID)).lock", body)
    }
}
