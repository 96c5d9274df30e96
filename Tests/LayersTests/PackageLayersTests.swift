import Foundation
import TestSupport
import Testing

@testable import Layers

/// Cutting a pip step's changes into a layer per large distribution (`PackageLayers`).
@Suite struct PackageLayersTests {
    static let site = "usr/local/lib/python3.11/site-packages"

    /// A site-packages as pip leaves it: `big` (2 MiB, a script in bin, byte code not in RECORD, a comma in a
    /// file name, the environment's metadata), `small`, and a file both RECORDs claim.
    static func makeTree(in dir: TemporaryDirectory) throws -> String {
        let site = "tree/\(Self.site)"
        try dir.write("\(site)/big/__init__.py", "VALUE = 1\n")
        try dir.write("\(site)/big/__pycache__/__init__.cpython-311.pyc", "bytecode")
        try dir.write("\(site)/big/data.bin", String(repeating: "x", count: 2 << 20))
        try dir.write("\(site)/big/a,b.txt", "comma\n")
        try dir.write("\(site)/shared/x.py", "both\n")
        try dir.write("tree/usr/local/bin/bigcli", "#!/usr/bin/python3\n", mode: 0o755)
        for name in ["METADATA", "REQUESTED", "INSTALLER", "direct_url.json"] {
            try dir.write("\(site)/big-1.0.dist-info/\(name)", "\(name)\n")
        }
        try dir.write(
            "\(site)/big-1.0.dist-info/RECORD",
            """
            big/__init__.py,sha256=abc,10
            big/data.bin,sha256=abc,2097152
            "big/a,b.txt",sha256=abc,6
            shared/x.py,,
            big-1.0.dist-info/METADATA,,
            big-1.0.dist-info/REQUESTED,,
            big-1.0.dist-info/INSTALLER,,
            big-1.0.dist-info/direct_url.json,,
            big-1.0.dist-info/RECORD,,
            ../../../bin/bigcli,,
            ../../../../../../etc/outside,,

            """)
        try dir.write("\(site)/small/__init__.py", "SMALL = 1\n")
        try dir.write(
            "\(site)/small-2.0.dist-info/RECORD", "small/__init__.py,,\nshared/x.py,,\nsmall-2.0.dist-info/RECORD,,\n")
        chmod("\(dir.path)/\(site)/big", 0o2775)
        return "\(dir.path)/tree"
    }

    @Test func largeDistributionsOwnTheirFilesButNotTheEnvironmentsMetadata() throws {
        let dir = try TemporaryDirectory()
        let root = try Self.makeTree(in: dir)
        let entries = try DirectoryScanner(root: root).scan()
        let groups = PackageLayers.groups(
            entries: entries, root: root, split: LayerSplit(minimumPackageBytes: 1 << 20))
        #expect(groups.map(\.name) == ["big 1.0"])
        let site = Self.site
        #expect(
            Set(groups.first?.paths ?? []) == [
                "\(site)/big/__init__.py", "\(site)/big/__pycache__/__init__.cpython-311.pyc",
                "\(site)/big/data.bin", "\(site)/big/a,b.txt", "\(site)/big-1.0.dist-info/METADATA",
                "usr/local/bin/bigcli",
            ])
        #expect(
            PackageLayers.groups(entries: entries, root: root, split: LayerSplit(minimumPackageBytes: 3 << 20)).isEmpty)
        #expect(PackageLayers.groups(entries: entries, root: root, split: .none).isEmpty)
        let both = PackageLayers.groups(entries: entries, root: root, split: LayerSplit(minimumPackageBytes: 1))
        #expect(both.map(\.name) == ["big 1.0", "small 2.0"])
        let capped = PackageLayers.groups(
            entries: entries, root: root, split: LayerSplit(minimumPackageBytes: 1, maximumPackageLayers: 1))
        #expect(capped.map(\.name) == ["big 1.0"], "the largest distributions win the layers there are")
    }

    @Test func partitionKeepsDirectoriesAndLeavesOnlyWhatWasEmptied() throws {
        let dir = try TemporaryDirectory()
        let root = try Self.makeTree(in: dir)
        let entries = try DirectoryScanner(root: root).scan()
        let groups = PackageLayers.groups(entries: entries, root: root, split: LayerSplit(minimumPackageBytes: 1 << 20))
        let (rest, lists) = PackageLayers.partition(entries, groups: groups)
        let restPaths = Set(rest.compactMap(\.path.string))
        let packagePaths = lists.first.map { $0.compactMap(\.path.string) } ?? []
        let site = Self.site
        #expect(!restPaths.contains("\(site)/big/data.bin"))
        #expect(!restPaths.contains("\(site)/big"), "a directory only the package used leaves the first layer")
        #expect(restPaths.contains("\(site)/big-1.0.dist-info/RECORD"))
        #expect(restPaths.contains("\(site)/big-1.0.dist-info/REQUESTED"))
        #expect(restPaths.contains("\(site)/shared/x.py"))
        #expect(restPaths.contains(site))
        #expect(packagePaths.contains("\(site)/big") && packagePaths.contains("usr/local/bin"))
        #expect(packagePaths == packagePaths.sorted { layerOrder($0, $1) })
        let packageFiles = (lists.first ?? []).filter { $0.kind != .directory }.compactMap(\.path.string)
        #expect(packageFiles.count == 6 && Set(packageFiles).isDisjoint(with: restPaths), "each file in one layer")
    }

    @Test func movingAGroupKeepsDirectoryModesAndEmptiesTheSource() throws {
        let dir = try TemporaryDirectory()
        let root = try Self.makeTree(in: dir)
        let entries = try DirectoryScanner(root: root).scan()
        let groups = PackageLayers.groups(entries: entries, root: root, split: LayerSplit(minimumPackageBytes: 1 << 20))
        let target = "\(dir.path)/package-0"
        try PackageLayers.move(try #require(groups.first), from: root, to: target)
        PackageLayers.removeEmptied(by: groups, in: root)
        let site = Self.site
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: "\(target)/\(site)/big/data.bin"))
        #expect(fm.fileExists(atPath: "\(target)/usr/local/bin/bigcli"))
        #expect(!fm.fileExists(atPath: "\(root)/\(site)/big"), "the emptied directory is gone from the step's layer")
        #expect(fm.fileExists(atPath: "\(root)/\(site)/big-1.0.dist-info/RECORD"))
        #expect(!fm.fileExists(atPath: "\(target)/\(site)/big-1.0.dist-info/RECORD"))
        var st = stat()
        #expect(stat("\(target)/\(site)/big", &st) == 0 && st.st_mode & 0o7777 == 0o2775)
    }
}
