import Foundation
import Testing

@testable import CogEngine

/// `include` / `exclude` patterns select what Cog's go-gitignore matching selects, quirks and all.
@Suite struct WeightPatternTests {
    @Test(arguments: [
        // `*` stays within a component, but a pattern without a leading `/` floats to any depth.
        ("*.json", "c.json", true), ("*.json", "a/b/c.json", true), ("*.json", "a/c.jsonx", false),
        ("*.json", "c.json/inner.bin", true),
        ("README*", "README.md", true), ("README*", "docs/README.md", true), ("README*", "docs/READ.md", false),
        // Unlike real gitignore, a path with a slash also floats.
        ("a/b", "a/b", true), ("a/b", "x/a/b", true), ("a/b", "a/b/c.bin", true), ("a/b", "a/bc", false),
        // `dir/*.ext` is anchored at the top.
        ("sub/*.json", "sub/x.json", true), ("sub/*.json", "x/sub/y.json", false),
        ("sub/*.json", "sub/deeper/x.json", false),
        ("/top.bin", "top.bin", true), ("/top.bin", "x/top.bin", false),
        // `?` is a literal question mark, not one character.
        ("file?.bin", "file?.bin", true), ("file?.bin", "file1.bin", false),
        // `**` crosses components.
        ("**/x", "x", true), ("**/x", "a/b/x", true), ("**/x", "a/b/xy", false),
        ("dir/**", "dir/a", true), ("dir/**", "dir/a/b.bin", true), ("dir/**", "other/a", false),
        ("a/**/z.bin", "a/z.bin", true), ("a/**/z.bin", "a/b/c/z.bin", true), ("a/**/z.bin", "b/z.bin", false),
        // A trailing slash matches what is under the folder.
        ("onnx/", "onnx/m.onnx", true), ("onnx/", "x/onnx/m.onnx", true), ("onnx/", "onnx", false),
        ("onnx", "onnx", true), ("onnx", "onnx/m.onnx", true), ("onnx", "onnxruntime.bin", false),
        // `.` is literal.
        ("a.b", "axb", false), ("a.b", "a.b", true),
        ("données/*.bin", "données/poids.bin", true), ("*.bin", "données/poids.bin", true),
    ])
    func patternMatchesAsGoGitignore(pattern: String, path: String, matches: Bool) throws {
        #expect(try WeightPattern(pattern).matches(path) == matches, "\(pattern) on \(path)")
    }

    @Test func translationIsTheLibrarys() {
        #expect(WeightPattern.translate("*.json") == #"^(|.*/)([^/]*)\.json(|/.*)$"#)
        #expect(WeightPattern.translate("sub/*.json") == #"^(|/)sub/([^/]*)\.json(|/.*)$"#)
        #expect(WeightPattern.translate("onnx/") == #"^(|.*/)onnx/(|.*)$"#)
    }

    static let paths = [
        "config.json", "model.safetensors", "README.md", "docs/README.md", "sub/a.json", "sub/deep/b.json",
        "données/poids.bin", "tokenizer/vocab.txt",
    ]

    static func kept(include: [String], exclude: [String]) throws -> [String] {
        let filter = try WeightFilter(include: include, exclude: exclude)
        return paths.filter(filter.keeps)
    }

    @Test func noPatternsKeepEverything() throws {
        #expect(try Self.kept(include: [], exclude: []) == Self.paths)
    }

    @Test func includesKeepOnlyWhatTheyMatch() throws {
        #expect(
            try Self.kept(include: ["*.json", "*.safetensors"], exclude: [])
                == ["config.json", "model.safetensors", "sub/a.json", "sub/deep/b.json"])
    }

    @Test func excludesDropWhatTheyMatchEvenWhenIncluded() throws {
        #expect(
            try Self.kept(include: [], exclude: ["README*", "tokenizer/"])
                == ["config.json", "model.safetensors", "sub/a.json", "sub/deep/b.json", "données/poids.bin"])
        #expect(
            try Self.kept(include: ["*.json", "*.md"], exclude: ["sub/*.json", "docs"])
                == ["config.json", "README.md", "sub/deep/b.json"])
    }

    @Test func patternsAreTrimmed() throws {
        #expect(try Self.kept(include: ["  *.bin "], exclude: []) == ["données/poids.bin"])
    }

    @Test(arguments: [
        (" ", "pattern must not be empty"),
        ("!*.json", "negation patterns (starting with '!') are not supported"),
        (#"sub\*.json"#, "patterns must use forward slashes, not backslashes"),
    ])
    func badPatternsAreNamed(pattern: String, problem: String) {
        #expect(WeightPattern.problem(with: pattern) == problem)
        #expect(WeightPattern.problem(with: "*.json") == nil)
    }
}
