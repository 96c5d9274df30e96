import ArgumentParser
import CogEngine
import Foundation

/// `cog init`: writes a commented cog.yaml, a run.py and a .dockerignore, never overwriting a file.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Write a starter cog.yaml, run.py and .dockerignore.",
        discussion: "Files that already exist are left as they are.")

    @Option(help: "The directory to write into (default: the current directory).")
    var directory: String?

    func run() throws {
        let target = directory ?? FileManager.default.currentDirectoryPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(target) is not a directory; create it first")
        }
        var wrote = 0
        for (name, contents) in StarterProject.files {
            let path = (target as NSString).appendingPathComponent(name)
            switch Self.createExclusively(path, contents: contents) {
            case .created:
                print("Wrote \(name)")
                wrote += 1
            case .exists:
                print("Skipped \(name): it already exists")
            case .failed(let reason):
                printError("cannot write \(path): \(reason)")
                throw ExitCode(1)
            }
        }
        if wrote > 0 { print("\nEdit cog.yaml and run.py, then run cog debug to see the build plan.") }
    }

    enum Outcome: Equatable {
        case created, exists
        case failed(String)
    }

    /// Writes `contents` to a new file at `path`; `O_EXCL` makes the "never overwrite" check and the creation one step.
    static func createExclusively(_ path: String, contents: String) -> Outcome {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            return errno == EEXIST ? .exists : .failed(String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                return .failed(String(cString: strerror(errno)))
            }
            written += result
        }
        return .created
    }
}
