import Foundation
import OCI

/// A layer blob written to a blob store, with both digests computed in the one pass that wrote it.
public struct WrittenLayer: Sendable, Equatable {
    /// Describes the compressed blob (media type, digest, size).
    public let descriptor: Descriptor
    /// SHA-256 of the uncompressed tar (the config's `rootfs.diff_ids`).
    public let diffID: Digest
    /// Size of the uncompressed tar.
    public let uncompressedSize: Int64

    public init(descriptor: Descriptor, diffID: Digest, uncompressedSize: Int64) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
    }
}

/// How layers are written: compression, level, threads and the timestamp clamp.
public struct LayerOptions: Sendable, Equatable {
    public var compression: LayerCompression
    public var level: Int
    public var threads: Int
    /// mtimes later than this are clamped to it (`SOURCE_DATE_EPOCH`).
    public var sourceDateEpoch: Int64

    public init(
        compression: LayerCompression = .gzip, level: Int? = nil,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, sourceDateEpoch: Int64 = 0
    ) {
        self.compression = compression
        self.level = level ?? (compression == .zstd ? 3 : 6)
        self.threads = threads
        self.sourceDateEpoch = sourceDateEpoch
    }
}

/// Streams entries into a layer blob: tar → diffID hash → compressor → digest hash → temporary file in the
/// store, renamed under its digest at the end. Memory stays flat whatever the layer's size.
public enum LayerWriter {
    /// Writes `entries` (in the order given) as one layer into `store`.
    public static func write(entries: some Sequence<TarEntry>, to store: BlobStore, options: LayerOptions) throws
        -> WrittenLayer
    {
        try write(to: store, options: options) { tar in
            for entry in entries { try tar.append(entry) }
        }
    }

    /// Writes a layer whose entries `body` appends.
    public static func write(to store: BlobStore, options: LayerOptions, _ body: (TarWriter) throws -> Void) throws
        -> WrittenLayer
    {
        let temporary = try store.temporaryPath()
        do {
            let file = try FileSink(creating: temporary)
            let compressed = try HashingSink(file)
            let compressor: ByteSink
            switch options.compression {
            case .gzip: compressor = ParallelGzipWriter(compressed, level: options.level, threads: options.threads)
            case .zstd: compressor = try ZstdWriter(compressed, level: options.level)
            case .none: compressor = compressed
            }
            let uncompressed = options.compression == .none ? compressed : try HashingSink(compressor)
            let tar = try TarWriter(uncompressed, sourceDateEpoch: options.sourceDateEpoch)
            try body(tar)
            try tar.finish()
            let digest = try compressed.digest
            let diffID = try uncompressed.digest
            try store.commit(temporary: temporary, digest: digest)
            return WrittenLayer(
                descriptor: Descriptor(
                    mediaType: options.compression.layerMediaType, digest: digest, size: compressed.count),
                diffID: diffID, uncompressedSize: uncompressed.count)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
    }
}
