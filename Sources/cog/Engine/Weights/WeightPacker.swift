import Foundation
import Layers
import OCI

/// Packs a weight's files into layers (the weights spec, §1): files under 64 MiB are bundled, sorted by path, into
/// gzip layers of at most 256 MiB; each larger file gets a layer of its own, left uncompressed when its extension
/// names a binary weights format (compressing those costs much and saves little), else gzipped. Every file is in
/// exactly one layer, so layers unpack in any order. Cog's thresholds and levels, so the lockfile's packing
/// envelope is the same.
enum WeightPacker {
    static let bundleFileMax: Int64 = 64 << 20
    static let bundleSizeMax: Int64 = 256 << 20
    static let incompressibleExtensions = [".bin", ".gguf", ".onnx", ".parquet", ".pt", ".pth", ".safetensors"]

    /// A file of the weight, in the local store.
    struct StoredFile: Sendable, Equatable {
        var path: String
        var digest: Digest
        var size: Int64
    }

    struct Layer: Sendable, Equatable {
        var descriptor: Descriptor
        /// The bytes of the files in it (not of the tar).
        var filesSize: Int64
        var files: [StoredFile]
    }

    /// Which files go together, and how each group is compressed: bundles first, then the large files.
    static func plan(_ files: [StoredFile]) -> [(files: [StoredFile], compression: LayerCompression, level: Int)] {
        let sorted = files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var groups: [(files: [StoredFile], compression: LayerCompression, level: Int)] = []
        var bundle: [StoredFile] = []
        var bundleSize: Int64 = 0
        for file in sorted where file.size < bundleFileMax {
            if bundleSize > 0, bundleSize + file.size > bundleSizeMax {
                groups.append((bundle, .gzip, 9))
                (bundle, bundleSize) = ([], 0)
            }
            bundle.append(file)
            bundleSize += file.size
        }
        if !bundle.isEmpty { groups.append((bundle, .gzip, 9)) }
        for file in sorted where file.size >= bundleFileMax {
            let name = file.path.lowercased()
            let raw = incompressibleExtensions.contains { name.hasSuffix($0) }
            groups.append(([file], raw ? LayerCompression.none : .gzip, 6))
        }
        return groups
    }

    /// Writes the layers into `blobs`, each file read from `store`.
    static func pack(
        _ files: [StoredFile], store: WeightFileStore, blobs: BlobStore, threads: Int
    ) throws -> [Layer] {
        try plan(files).map { group in
            let written = try LayerWriter.write(
                entries: entries(group.files, store: store), to: blobs,
                options: LayerOptions(compression: group.compression, level: group.level, threads: threads))
            return Layer(
                descriptor: written.descriptor, filesSize: group.files.reduce(0) { $0 + $1.size }, files: group.files)
        }
    }

    /// The parent folders first (sorted), then the files: epoch times, owner 0, modes 0755 and 0644.
    static func entries(_ files: [StoredFile], store: WeightFileStore) -> [TarEntry] {
        var folders = Set<String>()
        for file in files {
            var parts = file.path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                folders.insert(parts.joined(separator: "/"))
                parts.removeLast()
            }
        }
        let directories = folders.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map {
            TarEntry.directory($0 + "/")
        }
        return directories
            + files.map {
                TarEntry(
                    path: BytePath($0.path),
                    kind: .regular(.file(path: BytePath(store.path(for: $0.digest)), size: $0.size)), mode: 0o644)
            }
    }
}
