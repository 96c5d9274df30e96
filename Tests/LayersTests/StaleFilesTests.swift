import Foundation
import Layers
import TestSupport
import Testing

/// Temporary names left by killed writers are removed; those of live processes and real content are kept.
@Suite struct StaleTemporaryTests {
    @Test func onlyTheTemporariesOfGoneProcessesAreRemoved() throws {
        let dir = try TemporaryDirectory("stale")
        // A pid that is certainly gone: a child that has exited and been reaped.
        let child = try runCommand(["sh", "-c", "echo $$"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let live = "\(getppid())"
        let names = [
            "abc.tmp-\(child)-12", ".incoming-\(child)-99", "def.tmp-\(live)-7", ".incoming-\(live)-5",
            "0123abcd", "notes.tmp-x-1",
        ]
        for name in names { try dir.write(name, "x") }
        try FileManager.default.createDirectory(
            atPath: "\(dir.path)/layer.tmp-\(child)-3/etc", withIntermediateDirectories: true)
        StaleFiles.removeTemporaries(in: dir.path)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(left == ["def.tmp-\(live)-7", ".incoming-\(live)-5", "0123abcd", "notes.tmp-x-1"], "\(left)")
    }
}
