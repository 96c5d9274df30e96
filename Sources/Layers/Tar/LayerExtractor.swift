import CArchive
import CSupport
import Foundation
import OCI

/// Unpacks layer tars (gzip, zstd or plain) into a directory, refusing hostile entries.
///
/// Every path is resolved inside the target as if it were `/` (openat2 `RESOLVE_IN_ROOT`), so no entry, symlink
/// or hard link can write outside it. Names and link targets are written byte for byte; symlinks are kept as
/// they are wherever they point (absolute, climbing above the root, dangling), as Docker keeps them. Refused
/// outright: absolute paths, `..` components, hard links to paths outside the layer, device nodes when not root,
/// sizes above `maxEntrySize`. Runs of zeros in file content become holes.
public struct LayerExtractor {
    /// What to do with OCI whiteouts.
    public enum WhiteoutMode: Sendable, Equatable {
        /// Delete what they hide: the layers are flattened into one tree.
        case apply
        /// Turn them into overlayfs whiteouts (0/0 character devices, `<namespace>.overlay.opaque` xattrs), so
        /// the directory can serve as an overlay lower dir; `namespace` is `trusted` or `user` (`userxattr`).
        case overlay(xattrNamespace: String)
    }

    public let target: String
    public var whiteouts: WhiteoutMode = .apply
    public var maxEntrySize: Int64 = 1 << 40
    /// Creating device nodes needs real root (not root of a user namespace); without it such entries are refused,
    /// or skipped with `skipDevices`.
    public var allowDevices = geteuid() == 0 && !UserNamespace.isInsideUserNamespace
    /// Leave device nodes out instead of refusing them (layer dirs of rootless builds: the pushed layer keeps them).
    public var skipDevices = false
    /// Applying owners needs root (or a user namespace that maps them).
    public var preserveOwnership = geteuid() == 0

    public init(target: String) { self.target = target }

    /// What one extraction did.
    public struct Summary: Sendable, Equatable {
        public var entries = 0
        public var bytes: Int64 = 0
        public var whiteouts = 0
    }

    /// Extracts the layer file at `layerPath` into `target` (created if absent).
    @discardableResult
    public func extract(layerPath: String) throws -> Summary {
        try FileSystem.makeDirectory(target)
        let rootfd = open(target, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard rootfd >= 0 else { throw LayersError.posix("open", target) }
        defer { close(rootfd) }
        let reader = try TarReader(path: layerPath)
        var state = ExtractionState(rootfd: rootfd, extractor: self)
        while let header = try reader.next() {
            try state.apply(header, reader: reader)
        }
        try state.finishDirectories()
        return state.summary
    }
}
