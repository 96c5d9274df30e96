import Foundation
import OCI

/// A package archive named by path in the requirements (`wheels/mypkg-1.0-py3-none-any.whl`), copied into the
/// image under /tmp/local_package_artifacts/ and installed from there, as Cog stages local artifacts.
struct LocalArtifact: Sendable, Equatable {
    /// The file on this machine (inside the project).
    var source: String
    /// Where the install step finds it in the image.
    var target: String
    /// SHA-256 of the file, so that a changed archive rebuilds the step that copies it.
    var sha256: String

    static let directory = "/tmp/local_package_artifacts"
    static let suffixes = [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"]

    /// The path of a requirement line that is only a path to a package archive, spaces in its name and all
    /// (`./dist/local zip pkg-0.2.0.zip`, as Cog takes it); nil for anything else (options, markers, hashes, extras,
    /// `name @ path` and `file:` URLs are not staged, as in Cog).
    static func path(in line: String) -> String? {
        let words = line.split(whereSeparator: \.isWhitespace)
        guard suffixes.contains(where: line.hasSuffix), !line.hasPrefix("-"),
            !words.contains(where: { $0.hasPrefix("-") }), !line.contains(where: { ";@[#".contains($0) }),
            !line.contains(":")
        else { return nil }
        return line
    }

    /// Why `path` (relative to `projectDirectory`, or absolute) cannot be staged, or the artifact.
    static func resolve(_ path: String, projectDirectory: String) -> Result<LocalArtifact, RuleViolation> {
        let project = URL(fileURLWithPath: projectDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        let full = URL(fileURLWithPath: path.hasPrefix("/") ? path : "\(projectDirectory)/\(path)").standardizedFileURL
            .resolvingSymlinksInPath().path
        guard full.hasPrefix(project + "/") else {
            return .failure(
                RuleViolation(
                    message: "\"\(path)\" is outside the project, so it cannot be copied into the image",
                    hint: "move it into the project folder (\(projectDirectory))"))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
            let stream = try? FileStream.openForReading(full)
        else {
            return .failure(
                RuleViolation(
                    message: "\"\(path)\" does not exist in the project",
                    hint: "build the archive first, or fix the path (relative to \(projectDirectory))"))
        }
        let digest: Digest
        do {
            let hasher = try DigestHasher()
            try stream.forEachChunk { try hasher.update($0) }
            digest = try hasher.finalize()
        } catch {
            return .failure(
                RuleViolation(message: "\"\(path)\" cannot be read: \(error)", hint: "check its permissions"))
        }
        let relative = String(full.dropFirst(project.count + 1))
        return .success(LocalArtifact(source: full, target: "\(directory)/\(relative)", sha256: digest.encoded))
    }
}
