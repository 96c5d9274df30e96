import CSupport
import Foundation
import OCI
import TestSupport

@testable import Layers

/// A small tree with every kind of entry a layer carries.
func makeSampleTree(in dir: TemporaryDirectory, name: String = "tree") throws -> String {
    let root = "\(dir.path)/\(name)"
    try dir.write("\(name)/etc/hostname", "cog\n")
    try dir.write("\(name)/usr/bin/tool", "#!/bin/sh\necho hi\n", mode: 0o755)
    try dir.write("\(name)/usr/share/doc/readme.txt", String(repeating: "text line\n", count: 5000))
    let longDir = "\(name)/" + String(repeating: "very-long-directory-name/", count: 6)
    try dir.write("\(longDir)file-with-a-long-name.py", "print('long')\n")
    try dir.write(
        "\(name)/data/blob.bin",
        String(decoding: (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }, as: UTF8.self))
    symlink("../usr/bin/tool", "\(root)/etc/tool-link")
    link("\(root)/usr/bin/tool", "\(root)/usr/bin/tool-hardlink")
    setxattr("\(root)/etc/hostname", "user.cog.test", "v", 1, 0)
    mkdir("\(root)/empty", 0o700)
    return root
}

/// Lists a tar with bsdtar (the independent reader).
func bsdtarList(_ path: String) throws -> String {
    let result = try runCommand(["bsdtar", "-tvf", path])
    guard result.status == 0 else { throw TestSetupError("bsdtar -tvf \(path): \(result.stderr)") }
    return result.stdout
}

/// sha256 of a file, by an independent tool.
func sha256sum(_ path: String) throws -> String {
    String(try runCommand(["sha256sum", path]).stdout.prefix(64))
}

extension Sandbox {
    /// The sandbox as this test process would get it (this process's mapping and confinement).
    static func forTests() -> Sandbox {
        let environment = ProcessInfo.processInfo.environment
        return Sandbox(
            mapping: .detect(environment: environment),
            confinement: .detect(searchPath: environment["PATH"] ?? "/usr/bin:/bin"))
    }
}
