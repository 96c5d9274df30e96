import Foundation
import OCI

extension BuildStep {
    /// Stable text naming everything that determines this step's output: the command and its mounts' kinds, ids
    /// and targets (never a secret's contents, nor whether it was given), a generated file's path, mode and SHA-256, env values, paths and
    /// exclude patterns. The executor hashes it with the parent chain; the project's file digests are its part.
    var cacheKeyMaterial: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and arrays of them always encode.
        guard let data = try? encoder.encode(KeyMaterial(self)) else { return "\(self)" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The encoded form behind `cacheKeyMaterial`; bump `version` when its meaning changes.
private struct KeyMaterial: Encodable {
    var version = 1
    var kind: String
    var command: String?
    var mounts: [[String]]?
    var env: [[String]]?
    var path: String?
    var mode: UInt32?
    var sha256: String?
    var excludes: [String]?
    var files: [[String]]?
    /// Present (true) only for package steps, so other steps keep their keys.
    var splitsPackages: Bool?

    init(_ step: BuildStep) {
        switch step {
        case .env(let variables):
            kind = "env"
            env = variables.map { [$0.name, $0.value] }
        case .run(let run):
            kind = "run"
            command = run.command
            splitsPackages = run.splitsPackages ? true : nil
            mounts = run.mounts.map { mount in
                switch mount {
                case .cache(let target, let id): ["cache", id, target]
                // The mount's definition, never the secret's content nor whether one was given (as BuildKit).
                case .secret(let id, let target, let required): ["secret", id, target] + (required ? ["required"] : [])
                }
            }
        case .copyFile(let path, let contents, let mode):
            kind = "copyFile"
            self.path = path
            self.mode = mode
            // A digest of bytes in memory fails only when libcrypto cannot allocate; the contents then key the step.
            sha256 = (try? Digest.sha256(contents).encoded) ?? contents.map { String(format: "%02x", $0) }.joined()
        case .copyArtifacts(let artifacts):
            kind = "copyArtifacts"
            files = artifacts.map { [$0.target, $0.sha256] }
        case .workdir(let path):
            kind = "workdir"
            self.path = path
        case .copyProject(let destination, let excludes):
            kind = "copyProject"
            path = destination
            self.excludes = excludes
        }
    }
}
