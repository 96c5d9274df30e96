import Foundation
import OCI

/// One weight as an OCI artifact (the weights spec, §2): a manifest of `artifactType` `application/vnd.cog.weight.v1`
/// whose config blob indexes every file (path, layer, size, digest) and whose annotations name the weight, its
/// target and its set digest. Both are written as Cog writes them, so the same layers give the same manifest digest.
struct WeightArtifact: Sendable {
    static let artifactType = "application/vnd.cog.weight.v1"
    static let configMediaType: MediaType = "application/vnd.cog.weight.config.v1+json"
    static let nameAnnotation = "run.cog.weight.name"
    static let targetAnnotation = "run.cog.weight.target"
    static let setDigestAnnotation = "run.cog.weight.set-digest"
    static let uncompressedSizeAnnotation = "run.cog.weight.size.uncompressed"

    let name: String
    let target: String
    let setDigest: Digest
    /// Sorted by digest, as in the manifest.
    let layers: [WeightPacker.Layer]

    init(name: String, target: String, layers: [WeightPacker.Layer]) throws {
        self.name = name
        self.target = target
        self.layers = layers.sorted { $0.descriptor.digest.description < $1.descriptor.digest.description }
        setDigest = try WeightSetDigest.of(layers.flatMap(\.files).map { ($0.path, $0.digest) })
    }

    /// Every file with its layer, sorted by path.
    var files: [(file: WeightPacker.StoredFile, layer: Digest)] {
        layers.flatMap { layer in layer.files.map { ($0, layer.descriptor.digest) } }
            .sorted { $0.file.path.utf8.lexicographicallyPrecedes($1.file.path.utf8) }
    }

    /// The sum of the files' sizes.
    var size: Int64 { layers.reduce(0) { $0 + $1.filesSize } }

    var compressedSize: Int64 { layers.reduce(0) { $0 + $1.descriptor.size } }

    /// The config blob (`application/vnd.cog.weight.config.v1+json`), compact.
    var config: Data {
        OrderedJSON.object([
            ("name", .string(name)), ("target", .string(target)), ("setDigest", .string(setDigest.description)),
            (
                "files",
                .array(
                    files.map {
                        .object([
                            ("path", .string($0.file.path)), ("layer", .string($0.layer.description)),
                            ("size", .integer($0.file.size)), ("digest", .string($0.file.digest.description)),
                        ])
                    })
            ),
        ]).compact
    }

    /// The manifest, given the config blob's digest.
    func manifest(config: Data) throws -> Data {
        func descriptor(_ mediaType: String, _ size: Int64, _ digest: Digest, _ annotations: [(String, String)])
            -> OrderedJSON
        {
            var pairs: [(String, OrderedJSON)] = [
                ("mediaType", .string(mediaType)), ("size", .integer(size)), ("digest", .string(digest.description)),
            ]
            if !annotations.isEmpty { pairs.append(("annotations", .object(annotations.map { ($0, .string($1)) }))) }
            return .object(pairs)
        }
        return OrderedJSON.object([
            ("schemaVersion", .integer(2)), ("mediaType", .string(MediaType.imageManifest.rawValue)),
            ("artifactType", .string(Self.artifactType)),
            ("config", descriptor(Self.configMediaType.rawValue, Int64(config.count), try Digest.sha256(config), [])),
            (
                "layers",
                .array(
                    layers.map {
                        descriptor(
                            $0.descriptor.mediaType.rawValue, $0.descriptor.size, $0.descriptor.digest,
                            [(Self.uncompressedSizeAnnotation, String($0.filesSize))])
                    })
            ),
            (
                "annotations",
                .object([
                    (Self.nameAnnotation, .string(name)), (Self.setDigestAnnotation, .string(setDigest.description)),
                    (Self.targetAnnotation, .string(target)),
                ])
            ),
        ]).compact
    }

    /// The tag a weight is pushed under in the model's repository: `cog-weight.<name>.<12 hex of the set digest>`,
    /// the name reduced to `[A-Za-z0-9_-]` as Cog reduces it.
    static func tag(name: String, setDigest: Digest) -> String {
        // Go walks runes (Unicode scalars), not characters: `e` + a combining accent is `e-`.
        var segment = String(
            String.UnicodeScalarView(
                name.unicodeScalars.map { scalar in
                    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                        || scalar == "_" || scalar == "-" ? scalar : "-"
                }))
        while segment.contains("--") { segment = segment.replacingOccurrences(of: "--", with: "-") }
        segment = segment.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        if segment.count > 104 {
            segment = String(segment.prefix(104))
            while segment.hasSuffix("-") { segment.removeLast() }
        }
        if segment.isEmpty { segment = "unnamed" }
        return "cog-weight.\(segment).\(setDigest.encoded.prefix(12))"
    }
}
