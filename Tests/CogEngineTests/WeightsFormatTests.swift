import Foundation
import OCI
import TestSupport
import Testing

@testable import CogEngine

/// What Cog writes for managed weights, byte for byte: the packing envelope's digest, Go's JSON, `weights.lock`, the
/// set digest, and the weight artifact's config, manifest and tag.
@Suite struct WeightsFormatTests {
    static func digest(_ text: String) throws -> Digest { try Digest.sha256(Data(text.utf8)) }

    @Test func envelopeFormatIsCogs() {
        #expect(
            WeightsLock.envelopeFormat == "sha256:ce2d53f8dd962ace393450e0abadbe227304897be87753a503b61f9c8525726e")
        #expect(WeightsLock().envelopeFormat == WeightsLock.envelopeFormat)
    }

    @Test(arguments: [
        ("<a>&b", #""\u003ca\u003e\u0026b""#),
        ("quote \" back \\ slash", #""quote \" back \\ slash""#),
        ("nl\ncr\rtab\t", #""nl\ncr\rtab\t""#),
        ("\u{0}\u{1}\u{1f}", #""\u0000\u0001\u001f""#),
        // Go 1.22 and later (Cog's go.mod says 1.26) write backspace and form feed as \b and \f.
        ("\u{8}\u{c}", #""\b\f""#),
        ("\u{2028}\u{2029}", #""\u2028\u2029""#),
        ("données/データ/файл 🙂", "\"données/データ/файл 🙂\""),
        ("\u{7f}~", "\"\u{7f}~\""),
    ])
    func stringsAreEscapedAsGoEscapesThem(text: String, expected: String) {
        #expect(OrderedJSON.quoted(text) == expected)
        #expect(String(decoding: OrderedJSON.string(text).compact, as: UTF8.self) == expected)
    }

    @Test func indentedIsGoMarshalIndent() {
        let value = OrderedJSON.object([
            ("zeta", .integer(-1)), ("alpha", .array([.string("a"), .integer(2)])), ("empty", .array([])),
            ("none", .object([])), ("nested", .object([("k", .string("v"))])),
        ])
        let indented = """
            {
              "zeta": -1,
              "alpha": [
                "a",
                2
              ],
              "empty": [],
              "none": {},
              "nested": {
                "k": "v"
              }
            }
            """
        #expect(String(decoding: value.indented, as: UTF8.self) == indented)
        #expect(
            String(decoding: value.compact, as: UTF8.self)
                == #"{"zeta":-1,"alpha":["a",2],"empty":[],"none":{},"nested":{"k":"v"}}"#)
    }

    /// A lockfile in Cog's shape (as examples/managed-weights/weights.lock: two-space indent, no newline at the end).
    static let lockfile = """
        {
          "version": 1,
          "envelopeFormat": "sha256:ce2d53f8dd962ace393450e0abadbe227304897be87753a503b61f9c8525726e",
          "weights": [
            {
              "name": "parakeet",
              "target": "/src/weights/parakeet",
              "sources": [
                {
                  "uri": "file://./weights",
                  "fingerprint": "sha256:\(String(repeating: "1", count: 64))",
                  "include": [
                    "*.json",
                    "*.safetensors"
                  ],
                  "exclude": []
                }
              ],
              "importedAt": "2026-06-12T16:41:25.807184Z",
              "digest": "sha256:\(String(repeating: "2", count: 64))",
              "setDigest": "sha256:\(String(repeating: "3", count: 64))",
              "size": 2508312273,
              "sizeCompressed": 2508314600,
              "files": [
                {
                  "path": "config.json",
                  "size": 1153,
                  "digest": "sha256:\(String(repeating: "4", count: 64))",
                  "layer": "sha256:\(String(repeating: "6", count: 64))"
                },
                {
                  "path": "model.safetensors",
                  "size": 2508311120,
                  "digest": "sha256:\(String(repeating: "5", count: 64))",
                  "layer": "sha256:\(String(repeating: "7", count: 64))"
                }
              ],
              "layers": [
                {
                  "digest": "sha256:\(String(repeating: "6", count: 64))",
                  "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "size": 3480,
                  "sizeUncompressed": 1153
                },
                {
                  "digest": "sha256:\(String(repeating: "7", count: 64))",
                  "mediaType": "application/vnd.oci.image.layer.v1.tar",
                  "size": 2508311120,
                  "sizeUncompressed": 2508311120
                }
              ]
            },
            {
              "name": "données",
              "target": "/src/weights/données",
              "sources": [
                {
                  "uri": "file://./poids",
                  "fingerprint": "sha256:\(String(repeating: "8", count: 64))",
                  "include": [],
                  "exclude": [
                    "README*"
                  ]
                }
              ],
              "importedAt": "2026-06-12T16:41:26Z",
              "digest": "sha256:\(String(repeating: "9", count: 64))",
              "setDigest": "sha256:\(String(repeating: "a", count: 64))",
              "size": 3,
              "sizeCompressed": 120,
              "files": [
                {
                  "path": "été/<x>.bin",
                  "size": 3,
                  "digest": "sha256:\(String(repeating: "b", count: 64))",
                  "layer": "sha256:\(String(repeating: "c", count: 64))"
                }
              ],
              "layers": [
                {
                  "digest": "sha256:\(String(repeating: "c", count: 64))",
                  "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "size": 120,
                  "sizeUncompressed": 3
                }
              ]
            }
          ]
        }
        """

    @Test func aCogLockfileReadsAndWritesBackByteForByte() throws {
        let dir = try TemporaryDirectory("weights-lock")
        // Go escapes `<` and `>` in strings; the file as Cog writes it has them escaped.
        let written = Self.lockfile.replacingOccurrences(of: "<x>", with: #"\u003cx\u003e"#)
        try dir.write("weights.lock", written)
        let lock = try #require(try WeightsLock.load(projectDirectory: dir.path))
        #expect(lock.weights.map(\.name) == ["parakeet", "données"])
        #expect(lock.weights[1].files.map(\.path) == ["été/<x>.bin"])
        #expect(lock.weights[0].sources[0].include == ["*.json", "*.safetensors"])
        #expect(lock.weights[0].files[1].size == 2_508_311_120)

        let copy = try TemporaryDirectory("weights-lock-copy")
        try lock.save(projectDirectory: copy.path)
        let saved = try Data(contentsOf: URL(fileURLWithPath: "\(copy.path)/weights.lock"))
        #expect(String(decoding: saved, as: UTF8.self) == written)
        #expect(saved.last == UInt8(ascii: "}"), "no newline at the end, as json.MarshalIndent")
        #expect(try WeightsLock.load(projectDirectory: copy.path) == lock)
    }

    @Test func otherLockfileVersionsAreRefused() throws {
        let dir = try TemporaryDirectory("weights-lock-v2")
        try dir.write("weights.lock", #"{"version": 2, "envelopeFormat": "", "weights": []}"#)
        #expect(throws: WeightsError.lockfile("unsupported weights.lock version 2 (want 1)")) {
            try WeightsLock.load(projectDirectory: dir.path)
        }
        #expect(try WeightsLock.load(projectDirectory: "\(dir.path)/none") == nil)
    }

    /// A lockfile comes with a project, so a file path in it must not lead out of the weight's folder (predict
    /// hard-links each file to `<folder>/<path>` on the host).
    @Test(arguments: ["../../outside", "a/../../b", "/etc/passwd", "", "a//b", "./a", "a/."])
    func lockfilePathsLeavingTheWeightAreRefused(path: String) throws {
        let dir = try TemporaryDirectory("weights-lock-path")
        let entry = """
            {"name": "w", "target": "/src/w", "sources": [], "importedAt": "", "digest": "", "setDigest": "",
             "size": 1, "sizeCompressed": 1, "layers": [],
             "files": [{"path": "\(path)", "size": 1, "digest": "sha256:00", "layer": "sha256:00"}]}
            """
        try dir.write("weights.lock", #"{"version": 1, "envelopeFormat": "", "weights": ["# + entry + "]}")
        #expect(throws: WeightsError.self) { try WeightsLock.load(projectDirectory: dir.path) }
        #expect(WeightsLock.isRelativePath("sub/données.bin"))
    }

    @Test func importTimesAreWrittenAsGoWritesThem() {
        #expect(WeightsLock.Entry.timestamp(Date(timeIntervalSince1970: 1_781_282_486)) == "2026-06-12T16:41:26Z")
        #expect(WeightsLock.Entry.timestamp(Date(timeIntervalSince1970: 1_781_282_486.5)) == "2026-06-12T16:41:26.5Z")
    }

    /// `sha256sum`'s listing of the files, sorted, joined by newlines, no newline at the end: hashed by the real
    /// `sha256sum`, not by the code under test.
    @Test func setDigestIsTheSha256sumListingHashed() throws {
        let files = try ["b.json", "a/z.bin", "données/poids.bin", "a.txt", "Z"].map {
            ($0, try Self.digest("<\($0)>"))
        }
        let lines = files.map { "\($0.1.encoded)  \($0.0)" }
        let sorted = lines.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(sorted != files.sorted { $0.0 < $1.0 }.map { "\($0.1.encoded)  \($0.0)" }, "line order ≠ path order")
        let hashed = try runCommand(["sha256sum"], input: sorted.joined(separator: "\n"))
        let expected = "sha256:" + hashed.stdout.prefix(64)
        #expect(try WeightSetDigest.of(files.map { (path: $0.0, digest: $0.1) }).description == expected)
        #expect(try WeightSetDigest.of(files.reversed().map { (path: $0.0, digest: $0.1) }).description == expected)
    }

    @Test(arguments: [
        ("my.weight", "my-weight"), ("alpha", "alpha"), ("a..b", "a-b"), ("-x_y-", "x_y"), ("...", "unnamed"),
        ("été", "t"), (String(repeating: "w", count: 120), String(repeating: "w", count: 104)),
        // Cut at 104, then trailing hyphens trimmed; Go walks runes, so a combining accent is a hyphen of its own.
        (String(repeating: "a", count: 103) + ".bbb", String(repeating: "a", count: 103)), ("e\u{301}x", "e-x"),
    ])
    func tagsAreSanitizedAsCogSanitizesThem(name: String, segment: String) throws {
        let setDigest = try Self.digest(name)
        #expect(
            WeightArtifact.tag(name: name, setDigest: setDigest)
                == "cog-weight.\(segment).\(setDigest.encoded.prefix(12))")
    }

    @Test func configAndManifestAreCogsBytes() throws {
        let (one, two) = (try Self.digest("one"), try Self.digest("two"))
        let small = Descriptor(mediaType: .imageLayerGzip, digest: try Self.digest("layer-a"), size: 200)
        let large = Descriptor(mediaType: .imageLayer, digest: try Self.digest("layer-b"), size: 4096)
        let layers = [
            WeightPacker.Layer(
                descriptor: large, filesSize: 3000, files: [.init(path: "m.safetensors", digest: two, size: 3000)]),
            WeightPacker.Layer(
                descriptor: small, filesSize: 5, files: [.init(path: "c<1>.json", digest: one, size: 5)]),
        ]
        let artifact = try WeightArtifact(name: "w", target: "/src/weights/w", layers: layers)
        let sortedLayers = [small, large].sorted { $0.digest.description < $1.digest.description }
        #expect(artifact.layers.map(\.descriptor) == sortedLayers)
        let config = String(decoding: artifact.config, as: UTF8.self)
        #expect(
            config
                == #"{"name":"w","target":"/src/weights/w","setDigest":"\#(artifact.setDigest)","files":[{"path":"c\u003c1\u003e.json","layer":"\#(small.digest)","size":5,"digest":"\#(one)"},{"path":"m.safetensors","layer":"\#(large.digest)","size":3000,"digest":"\#(two)"}]}"#
        )
        let manifest = String(decoding: try artifact.manifest(config: artifact.config), as: UTF8.self)
        let layerJSON = sortedLayers.map {
            #"{"mediaType":"\#($0.mediaType.rawValue)","size":\#($0.size),"digest":"\#($0.digest)","annotations":{"run.cog.weight.size.uncompressed":"\#($0.size == 200 ? 5 : 3000)"}}"#
        }
        #expect(
            manifest
                == #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cog.weight.v1","config":{"mediaType":"application/vnd.cog.weight.config.v1+json","size":\#(artifact.config.count),"digest":"\#(try Digest.sha256(artifact.config))"},"layers":[\#(layerJSON.joined(separator: ","))],"annotations":{"run.cog.weight.name":"w","run.cog.weight.set-digest":"\#(artifact.setDigest)","run.cog.weight.target":"/src/weights/w"}}"#
        )
    }
}
