import Foundation

/// What Cog records about the project's git checkout: `org.opencontainers.image.revision` (the HEAD commit) and
/// `org.opencontainers.image.version` (`git describe --tags --dirty`: the tag at HEAD, or the nearest tag with the
/// commits since it, `-dirty` with uncommitted changes). Read with the `git` program; a project that is not a
/// checkout, or a machine without git, gets neither label.
public struct GitRevision: Sendable, Equatable {
    public var commit: String?
    public var version: String?

    public init(commit: String? = nil, version: String? = nil) {
        self.commit = commit
        self.version = version
    }

    /// The labels for this revision (none for an unknown part).
    var labels: [String: String] {
        var labels: [String: String] = [:]
        if let commit, !commit.isEmpty { labels[BuildPlan.Label.revision] = commit }
        if let version, !version.isEmpty { labels[BuildPlan.Label.sourceVersion] = version }
        return labels
    }

    /// The revision of the checkout holding `directory`; `given` parts (CI's `GITHUB_SHA` and `GITHUB_REF_NAME`,
    /// as Cog reads them) win over git's answers.
    public static func read(directory: String, given: GitRevision = GitRevision(), searchPath: String) -> GitRevision {
        var revision = given
        guard revision.commit == nil || revision.version == nil,
            let git = searchPath.split(separator: ":").map({ "\($0)/git" }).first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            }),
            run(git, ["-C", directory, "rev-parse", "--is-inside-work-tree"]) == "true"
        else { return revision }
        if revision.commit == nil { revision.commit = run(git, ["-C", directory, "rev-parse", "HEAD"]) }
        if revision.version == nil { revision.version = run(git, ["-C", directory, "describe", "--tags", "--dirty"]) }
        return revision
    }

    /// The trimmed output of a git command that succeeded within three seconds (as Cog allows), else nil.
    private static func run(_ git: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        // The project's own git config must not run programs on the build machine (core.fsmonitor runs one when
        // `describe --dirty` refreshes the index), nor may git write to the checkout.
        process.arguments = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"] + arguments
        process.environment = [
            "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0",
        ]
        guard let text = QuietProcess.output(of: process, timeout: 3) else { return nil }
        return text.isEmpty ? nil : text
    }
}
