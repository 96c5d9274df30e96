import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// The files a `file://` weights source holds, walked as Cog walks it.
@Suite struct WeightInventoryTests {
    static func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func everyRegularFileIsListedInByteOrderButCogFolders() throws {
        let dir = try TemporaryDirectory("weights-inventory")
        for (path, text) in [
            ("w/données/poids.bin", "abc"), ("w/config.json", "{}"), ("w/.hidden", "h"), ("w/B.txt", ""),
            ("w/.cog/state", "x"), ("w/sub/.cog/deeper/state", "x"), ("w/sub/データ.bin", "12345"),
        ] {
            try dir.write(path, text)
        }
        let inventory = try WeightInventory(uri: "file://./w", projectDirectory: dir.path)
        #expect(inventory.uri == "file://./w")
        #expect(inventory.directory == "\(dir.path)/w")
        #expect(
            inventory.files.map(\.path) == [".hidden", "B.txt", "config.json", "données/poids.bin", "sub/データ.bin"])
        #expect(inventory.files.map(\.size) == [1, 0, 2, 3, 5])
        #expect(inventory.files[3].absolutePath == "\(dir.path)/w/données/poids.bin")
        // A bare path is the same source.
        #expect(try WeightInventory(uri: "w/", projectDirectory: dir.path).files == inventory.files)
    }

    @Test func aSymlinkIsRefused() throws {
        let dir = try TemporaryDirectory("weights-symlink")
        try dir.write("w/real.bin", "x")
        try FileManager.default.createSymbolicLink(atPath: "\(dir.path)/w/link.bin", withDestinationPath: "real.bin")
        #expect(
            Self.message { try WeightInventory(uri: "file://./w", projectDirectory: dir.path) }
                == #"weight source contains non-regular entry "link.bin" (symlink); resolve to regular files before importing"#
        )
    }

    @Test(arguments: [
        ("file://../x", #"weight source "file://../x" escapes the project directory"#),
        ("./a/../../x", #"weight source "./a/../../x" escapes the project directory"#),
        ("file://.", "weight source cannot be the project directory itself"),
        ("file://", "empty weight source path"),
        ("s3://bucket/x", #"unsupported weight source scheme "s3" in URI "s3://bucket/x""#),
        ("file://./missing", "weight source not found: file://./missing"),
        (
            "file://./plain.bin",
            "weight source file://./plain.bin is not a directory (file:// sources must be directories)"
        ),
    ])
    func badSourcesAreNamed(uri: String, expected: String) throws {
        let dir = try TemporaryDirectory("weights-bad-source")
        try dir.write("plain.bin", "x")
        #expect(Self.message { try WeightInventory(uri: uri, projectDirectory: dir.path) } == expected)
    }

    @Test(arguments: [
        ("file://./w", "file://./w"), ("w", "file://./w"), ("./w/./x/", "file://./w/x"),
        ("file://a/../w", "file://./w"), ("file:///abs/./dir/", "file:///abs/dir"),
    ])
    func urisAreNormalizedAsCogNormalizesThem(uri: String, normalized: String) throws {
        #expect(try WeightInventory.normalize(uri, projectDirectory: "/p").uri == normalized)
    }
}
