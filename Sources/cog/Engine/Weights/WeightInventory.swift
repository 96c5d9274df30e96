import Foundation
import OCI

/// The files of one weights source, as `cog weights import` takes them: a directory in the project (`file://`),
/// walked whole (folders named `.cog` skipped, as Cog reserves them), each regular file with its path relative to
/// the source, in byte order.
struct WeightInventory: Sendable {
    struct File: Sendable, Equatable {
        /// Relative to the source directory, `/`-separated.
        var path: String
        var absolutePath: String
        var size: Int64
    }

    /// The normalized URI, as the lockfile records it: `file://./relative/dir` or `file:///absolute/dir`.
    let uri: String
    let directory: String
    let files: [File]

    /// Reads the source `uri` names, relative to `projectDirectory`.
    init(uri: String, projectDirectory: String) throws {
        (self.uri, directory) = try Self.normalize(uri, projectDirectory: projectDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw WeightsError.source("weight source not found: \(self.uri)")
        }
        guard isDirectory.boolValue else {
            throw WeightsError.source(
                "weight source \(self.uri) is not a directory (file:// sources must be directories)")
        }
        var found: [File] = []
        try Self.walk(directory, relative: "", into: &found)
        files = found.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// `file://X` or a bare path `X` → `file://./X` (relative, cleaned) or `file:///X` (absolute).
    static func normalize(_ uri: String, projectDirectory: String) throws -> (uri: String, directory: String) {
        let scheme = uri.range(of: "://").map { String(uri[..<$0.lowerBound]) }
        if let scheme, scheme != "file" {
            throw WeightsError.source(
                scheme == "hf" || scheme == "huggingface" || scheme == "http" || scheme == "https"
                    ? "weight source \(uri): \(scheme):// sources are not supported by this cog yet; download the files into a folder of the project and use file://./folder"
                    : "unsupported weight source scheme \"\(scheme)\" in URI \"\(uri)\"")
        }
        let path = scheme == nil ? uri : String(uri.dropFirst("file://".count))
        guard !path.isEmpty else { throw WeightsError.source("empty weight source path") }
        if path.hasPrefix("/") {
            let clean = (path as NSString).standardizingPath
            return ("file://\(clean)", clean)
        }
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else {
                    throw WeightsError.source("weight source \"\(uri)\" escapes the project directory")
                }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        guard !parts.isEmpty else { throw WeightsError.source("weight source cannot be the project directory itself") }
        let relative = parts.joined(separator: "/")
        return ("file://./\(relative)", "\(projectDirectory)/\(relative)")
    }

    private static func walk(_ directory: String, relative: String, into files: inout [File]) throws {
        guard let handle = opendir(directory) else {
            throw WeightsError.source(
                "cannot read the weight source folder \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                throw WeightsError.source(
                    "weight source \(directory) holds a file whose name is not UTF-8; weight paths must be UTF-8, rename it"
                )
            }
            let absolute = "\(directory)/\(name)"
            let path = relative.isEmpty ? name : "\(relative)/\(name)"
            var status = stat()
            guard lstat(absolute, &status) == 0 else {
                throw WeightsError.source("cannot read \(absolute): \(String(cString: strerror(errno)))")
            }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                if name != ".cog" { try walk(absolute, relative: path, into: &files) }
            case S_IFREG:
                files.append(File(path: path, absolutePath: absolute, size: Int64(status.st_size)))
            default:
                let kind = (status.st_mode & S_IFMT) == S_IFLNK ? "symlink" : "not a regular file"
                throw WeightsError.source(
                    "weight source contains non-regular entry \"\(path)\" (\(kind)); resolve to regular files before importing"
                )
            }
        }
    }
}

/// The weight set digest (the weights spec, §2.4): SHA-256 over the sorted `<hex>  <path>` lines, joined with
/// newlines, the way `sha256sum` lists files. It names the files' content, whatever layers hold them.
enum WeightSetDigest {
    static func of(_ files: [(path: String, digest: Digest)]) throws -> Digest {
        let lines = files.map { "\($0.digest.encoded)  \($0.path)" }.sorted {
            $0.utf8.lexicographicallyPrecedes($1.utf8)
        }
        return try Digest.sha256(Data(lines.joined(separator: "\n").utf8))
    }
}
