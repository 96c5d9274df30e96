/// One entry of a layer tar, as the tar writer takes it and the directory scanner produces it.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A regular file whose bytes come from a file on disk or from memory.
        case regular(Content)
        case directory
        case symlink(target: BytePath)
        /// A hard link to an earlier entry of the same layer.
        case hardlink(target: BytePath)
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
    }

    public enum Content: Sendable, Equatable {
        /// A file on disk, read when the entry is written; `size` is what the scan saw (a change is an error).
        case file(path: BytePath, size: Int64)
        case bytes([UInt8])

        var size: Int64 {
            switch self {
            case .file(_, let size): return size
            case .bytes(let bytes): return Int64(bytes.count)
            }
        }
    }

    /// Relative path inside the layer, `/`-separated, without a leading `./` or `/`.
    public var path: BytePath
    public var kind: Kind
    /// Permission bits, including setuid, setgid and sticky.
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    /// Seconds since the epoch (clamped by the writer).
    public var mtime: Int64
    /// Extended attributes, written as PAX records.
    public var xattrs: [String: [UInt8]]

    public init(
        path: BytePath, kind: Kind, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, mtime: Int64 = 0,
        xattrs: [String: [UInt8]] = [:]
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.xattrs = xattrs
    }

    /// A regular file with in-memory content.
    /// A regular file with in-memory content.
    public static func file(_ path: String, _ content: [UInt8], mode: UInt32 = 0o644) -> TarEntry {
        TarEntry(path: BytePath(path), kind: .regular(.bytes(content)), mode: mode)
    }

    public static func directory(_ path: String, mode: UInt32 = 0o755) -> TarEntry {
        TarEntry(path: BytePath(path), kind: .directory, mode: mode)
    }

    /// The OCI whiteout that deletes `path` from the layers below (image-spec layer.md).
    public static func whiteout(for path: String) -> TarEntry { whiteout(for: BytePath(path)) }

    public static func whiteout(for path: BytePath) -> TarEntry {
        let (parent, name) = path.parentAndName
        return TarEntry(path: parent.appending(BytePath(".wh.".utf8 + name.bytes)), kind: .regular(.bytes([])))
    }

    /// The OCI opaque whiteout: the directory `path` hides everything below it from lower layers.
    public static func opaqueWhiteout(in path: String) -> TarEntry { opaqueWhiteout(in: BytePath(path)) }

    public static func opaqueWhiteout(in path: BytePath) -> TarEntry {
        TarEntry(path: path.appending(".wh..wh..opq"), kind: .regular(.bytes([])))
    }

    var size: Int64 {
        if case .regular(let content) = kind { return content.size }
        return 0
    }
}

/// The order entries take in a layer: by path, byte-wise, except that within a directory its whiteouts come
/// before its other children (image-spec layer.md recommends whiteouts before siblings).
public func layerOrder(_ lhs: String, _ rhs: String) -> Bool { layerOrder(BytePath(lhs), BytePath(rhs)) }

public func layerOrder(_ lhs: BytePath, _ rhs: BytePath) -> Bool {
    let left = lhs.bytes
    let right = rhs.bytes
    // Compare component by component so that "a/b" sorts right after "a", before "a-b".
    var i = 0
    var j = 0
    while i < left.count && j < right.count {
        let leftEnd = left[i...].firstIndex(of: 0x2f) ?? left.count
        let rightEnd = right[j...].firstIndex(of: 0x2f) ?? right.count
        let a = left[i..<leftEnd]
        let b = right[j..<rightEnd]
        if !a.elementsEqual(b) {
            let aWhiteout = a.starts(with: ".wh.".utf8)
            let bWhiteout = b.starts(with: ".wh.".utf8)
            if aWhiteout != bWhiteout { return aWhiteout }
            return a.lexicographicallyPrecedes(b)
        }
        i = leftEnd + 1
        j = rightEnd + 1
    }
    return left.count < right.count
}
