import Foundation
import Layers
import TestSupport
import Testing

@testable import CogEngine

/// `.dockerignore` as BuildKit reads it: moby/patternmatcher's own test table, and fsutil's walk, which enters an
/// excluded directory when an exception can reach into it.
@Suite struct IgnoreMatcherTests {
    /// patternmatcher_test.go `TestMatches` (paths with a trailing slash left out: the walk never makes them).
    @Test(arguments: [
        ("**", "file", true), ("**", "dir/file", true), ("**/**", "dir/file", true), ("dir/**", "dir/file", true),
        ("dir/**", "dir/dir2/file", true), ("**/dir", "dir", true), ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true), ("**/dir2/**", "dir/dir2/dir3/file", true), ("**file", "file", true),
        ("**file", "dir/file", true), ("**/file", "dir/file", true), ("**file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true), ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true), ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false), ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true), ("a**/*.txt", "a/file.txt", true), ("a**/*.txt", "a/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false), ("a/*.txt", "a/file.txt", true), ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false), ("a[b-d]e", "ace", true), ("a[b-d]e", "aae", false), ("a[^b-d]e", "aze", true),
        (".*", ".foo", true), (".*", "foo", false), ("abc.def", "abcdef", false), ("abc.def", "abc.def", true),
        ("abc?def", "abcZdef", true), ("abc?def", "abcdef", false), ("a\\\\", "a\\", true),
        ("**/foo/bar", "foo/bar", true), ("**/foo/bar", "dir/dir2/foo/bar", true), ("abc/**", "abc", false),
        ("abc/**", "abc/def/ghi", true), ("**/.foo", ".foo", true), ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true), ("a(b)c/def", "a(b)c/xyz", false), ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true), ("a\\*b", "a*b", true),
        ("/data", "data/x", true), ("./data/../data", "data", true), ("data/", "data/x", true),
    ])
    func onePattern(pattern: String, path: String, excluded: Bool) {
        #expect(IgnoreMatcher(patterns: [pattern]).excludes(path) == excluded, "\(pattern) against \(path)")
    }

    @Test func exceptionsAndOrder() {
        #expect(!IgnoreMatcher(patterns: ["**", "!util/docker/web"]).excludes("util/docker/web/foo"))
        #expect(
            IgnoreMatcher(patterns: ["**", "!util/docker/web", "util/docker/web/foo"]).excludes("util/docker/web/foo"))
        #expect(!IgnoreMatcher(patterns: ["**", "!dist/*.whl"]).excludes("dist/a-1.0-py3-none-any.whl"))
        #expect(!IgnoreMatcher(patterns: ["data", "!data/keep.txt"]).excludes("data/keep.txt"))
        #expect(IgnoreMatcher(patterns: ["data", "!data/keep.txt"]).excludes("data/drop.txt"))
    }

    @Test func whichExcludedDirectoriesAreEntered() {
        let prefixes = IgnoreMatcher(patterns: ["*", "!data/keep.txt"])
        #expect(prefixes.descends(into: "data"))
        #expect(!prefixes.descends(into: "weights"), "no exception names anything under weights/")
        #expect(IgnoreMatcher(patterns: ["data", "!data/sub/*"]).descends(into: "data/sub"))
        #expect(IgnoreMatcher(patterns: ["*", "!**/keep.txt"]).descends(into: "weights"), "a wildcard may reach in")
        #expect(!IgnoreMatcher(patterns: ["data"]).descends(into: "data"))
    }

    /// The scan behind `COPY . /src`: exceptions inside excluded directories, parents kept only above what stays,
    /// and cog's own cache left out wherever it lies under the project.
    @Test(arguments: [
        ("data\n!data/keep.txt\n", ["cog.yaml", "data", "data/keep.txt", "predict.py"]),
        ("*\n!data/keep.txt\n", ["data", "data/keep.txt"]),
        ("*\n!data/keep.txt\n!cog.yaml\n", ["cog.yaml", "data", "data/keep.txt"]),
        (
            "data\n!data/sub/deep/*\n",
            ["cog.yaml", "data", "data/sub", "data/sub/deep", "data/sub/deep/x.txt", "predict.py"]
        ),
        ("*\n!**/x.txt\n", ["data", "data/sub", "data/sub/deep", "data/sub/deep/x.txt"]),
    ])
    func projectEntries(dockerignore: String, expected: [String]) throws {
        let project = try makeProject(nil)
        for name in ["cog.yaml", "predict.py", "data/keep.txt", "data/drop.txt", "data/sub/deep/x.txt"] {
            try project.write(name, name)
        }
        try project.write(".cache/cog/blobs/sha256/abc", "blob")
        try project.write(".cache/cog/scratch/step-1/work/x", "x")
        let files = ProjectFiles(
            directory: project.path, excludes: DockerIgnore.parse(dockerignore) + [".dockerignore", ".cache"],
            ownState: [])
        let paths = try files.entries(destination: "/src").entries.map(\.path.description).filter { $0 != "src" }
        #expect(paths == expected.map { "src/\($0)" })
    }

    @Test func cogsCacheUnderTheProjectIsNeverCopied() throws {
        let project = try makeProject("build:\n  python_version: \"3.11\"\n")
        try project.write(".cache/cog/blobs/sha256/abc", "blob")
        try project.write(".cache/pip/wheel", "the user's own cache is theirs")
        let files = ProjectFiles(directory: project.path, excludes: [".cog"], ownState: ["\(project.path)/.cache/cog"])
        let paths = try files.entries(destination: "/src").entries.map(\.path.description)
        #expect(paths.contains("src/.cache/pip/wheel"))
        #expect(!paths.contains { $0.hasPrefix("src/.cache/cog") }, "\(paths)")
        let inside = ProjectFiles(directory: project.path, excludes: [], ownState: [project.path])
        try project.write("blobs/sha256/abc", "a cache rooted at the project itself")
        #expect(!(try inside.entries(destination: "/src").entries.map(\.path.description).contains("src/blobs")))
    }
}
