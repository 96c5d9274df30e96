import Foundation
import OCI

/// `weights.lock` in the project: what `cog weights import` pushed for each weight (its manifest, files and layers),
/// written as Cog writes it, so a lockfile from Cog reads here and one from here reads in Cog.
public struct WeightsLock: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        var uri: String
        var fingerprint: String
        var include: [String]
        var exclude: [String]
    }

    public struct File: Codable, Sendable, Equatable {
        var path: String
        var size: Int64
        var digest: String
        var layer: String
    }

    public struct Layer: Codable, Sendable, Equatable {
        var digest: String
        var mediaType: String
        var size: Int64
        var sizeUncompressed: Int64
    }

    public struct Entry: Codable, Sendable, Equatable {
        var name: String
        var target: String
        var sources: [Source]
        var importedAt: String
        /// The weight manifest's digest.
        var digest: String
        var setDigest: String
        var size: Int64
        var sizeCompressed: Int64
        var files: [File]
        var layers: [Layer]

        /// Equal but for when it was imported.
        func sameContent(as other: Entry) -> Bool {
            var copy = other
            copy.importedAt = importedAt
            return copy == self
        }
    }

    static let fileName = "weights.lock"
    static let version = 1

    /// The packing parameters a lockfile was made with; a lockfile made with others is rewritten on import.
    static let envelope = OrderedJSON.object([
        ("bundleFileMax", .integer(WeightPacker.bundleFileMax)),
        ("bundleSizeMax", .integer(WeightPacker.bundleSizeMax)),
        ("gzipLevelBundle", .integer(9)),
        ("gzipLevelLarge", .integer(-1)),
        ("incompressibleExts", .array(WeightPacker.incompressibleExtensions.map { .string($0) })),
        ("mediaTypeCompressed", .string(MediaType.imageLayerGzip.rawValue)),
        ("mediaTypeRaw", .string(MediaType.imageLayer.rawValue)),
        ("revision", .integer(1)),
    ])

    static var envelopeFormat: String { (try? Digest.sha256(envelope.compact).description) ?? "" }

    var version = WeightsLock.version
    var envelopeFormat = WeightsLock.envelopeFormat
    var weights: [Entry] = []

    init() {}

    /// Reads `weights.lock` in `projectDirectory`; nil when there is none.
    static func load(projectDirectory: String) throws -> WeightsLock? {
        let path = "\(projectDirectory)/\(fileName)"
        guard FileSystem.exists(path) else { return nil }
        let lock: WeightsLock
        do {
            lock = try JSONDecoder().decode(WeightsLock.self, from: try FileSystem.read(path))
        } catch let error as DecodingError {
            throw WeightsError.lockfile("\(path) is not a weights lockfile (\(error)); run 'cog weights import' again")
        }
        guard lock.version == version else {
            throw WeightsError.lockfile("unsupported weights.lock version \(lock.version) (want \(version))")
        }
        for entry in lock.weights {
            for file in entry.files where !isRelativePath(file.path) {
                throw WeightsError.lockfile(
                    "\(path): weight \"\(entry.name)\" lists the file \"\(file.path)\", which is not a path inside the weight; run 'cog weights import' again"
                )
            }
        }
        return lock
    }

    /// A path that stays inside the weight's folder: relative, no empty, `.` or `..` component, no NUL.
    static func isRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\u{0}") else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".."
        }
    }

    /// Writes the lockfile (a temporary name, then a rename), as Go's `json.MarshalIndent` with two spaces.
    func save(projectDirectory: String) throws {
        try FileSystem.writeAtomically(ordered.indented, to: "\(projectDirectory)/\(Self.fileName)")
    }

    func entry(named name: String) -> Entry? { weights.first { $0.name == name } }

    /// Replaces the entry of the same name in place, or appends it.
    mutating func upsert(_ entry: Entry) {
        if let index = weights.firstIndex(where: { $0.name == entry.name }) {
            weights[index] = entry
        } else {
            weights.append(entry)
        }
    }

    var ordered: OrderedJSON {
        .object([
            ("version", .integer(Int64(version))), ("envelopeFormat", .string(envelopeFormat)),
            ("weights", .array(weights.map(\.ordered))),
        ])
    }
}

extension WeightsLock.Entry {
    var ordered: OrderedJSON {
        .object([
            ("name", .string(name)), ("target", .string(target)),
            (
                "sources",
                .array(
                    sources.map {
                        .object([
                            ("uri", .string($0.uri)), ("fingerprint", .string($0.fingerprint)),
                            ("include", .array($0.include.map { .string($0) })),
                            ("exclude", .array($0.exclude.map { .string($0) })),
                        ])
                    })
            ),
            ("importedAt", .string(importedAt)), ("digest", .string(digest)), ("setDigest", .string(setDigest)),
            ("size", .integer(size)), ("sizeCompressed", .integer(sizeCompressed)),
            (
                "files",
                .array(
                    files.map {
                        .object([
                            ("path", .string($0.path)), ("size", .integer($0.size)), ("digest", .string($0.digest)),
                            ("layer", .string($0.layer)),
                        ])
                    })
            ),
            (
                "layers",
                .array(
                    layers.map {
                        .object([
                            ("digest", .string($0.digest)), ("mediaType", .string($0.mediaType)),
                            ("size", .integer($0.size)), ("sizeUncompressed", .integer($0.sizeUncompressed)),
                        ])
                    })
            ),
        ])
    }

    /// The time as Go writes a UTC `time.Time` (RFC 3339, nanoseconds with trailing zeros dropped).
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let whole = formatter.string(from: Date(timeIntervalSince1970: seconds))
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded())
        guard micros > 0, micros < 1_000_000 else { return whole }
        var fraction = String(format: "%06d", micros)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return String(whole.dropLast()) + "." + fraction + "Z"
    }
}
