/// One step of a build plan, in Dockerfile terms, so the executor needs no knowledge of cog.
enum BuildStep: Sendable, Equatable {
    /// `ENV K=V …`: set for the steps that follow and kept in the image config. Order is kept.
    case env([EnvVar])
    /// `RUN`: a shell command (run by `/bin/sh -c`) with its cache and secret mounts.
    case run(RunStep)
    /// `COPY --from=cog_build <name> <path>`: a file the plan generated (such as /tmp/requirements.txt).
    case copyFile(path: String, contents: [UInt8], mode: UInt32)
    /// `COPY --from=cog_build local_package_artifacts/ /tmp/local_package_artifacts/`: package archives from the
    /// project that the requirements name.
    case copyArtifacts([LocalArtifact])
    /// `WORKDIR`: the directory later steps and the image start in; created when missing.
    case workdir(String)
    /// `COPY . <destination>`: the project, minus paths matching `excludes` (the raw `.dockerignore`
    /// patterns, in order, followed by the implicit `.cog`).
    case copyProject(destination: String, excludes: [String])
}

/// A variable set by an `ENV` step.
///
/// As in a Dockerfile, the value may name variables set before it (`$LD_LIBRARY_PATH`, `${PATH}`), taken from
/// the base image's env and earlier steps; `expandedValue(lookup:)` performs that substitution.
struct EnvVar: Sendable, Equatable, Hashable {
    var name: String
    var value: String

    /// The value with `$NAME` and `${NAME}` replaced by `lookup(NAME)` (empty when unset), and `\$` kept as `$`.
    func expandedValue(lookup: (String) -> String?) -> String {
        var result = ""
        var characters = value[...]
        while let character = characters.popFirst() {
            if character == "\\", characters.first == "$" {
                result.append(characters.removeFirst())
                continue
            }
            guard character == "$", let next = characters.first else {
                result.append(character)
                continue
            }
            if next == "{", let close = characters.firstIndex(of: "}") {
                result += lookup(String(characters[characters.index(after: characters.startIndex)..<close])) ?? ""
                characters = characters[characters.index(after: close)...]
            } else if next == "_" || next.isLetter {
                let name = characters.prefix { $0 == "_" || $0.isLetter || $0.isNumber }
                result += lookup(String(name)) ?? ""
                characters = characters.dropFirst(name.count)
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// A `RUN` step: what runs, what is mounted while it runs, and a short label for progress output.
struct RunStep: Sendable, Equatable {
    /// Shell text passed to `/bin/sh -c`.
    var command: String
    var mounts: [RunMount] = []
    /// A short human label, such as "apt-get install cowsay".
    var summary: String
    /// A pip or uv install: its changes become several layers, one per large distribution, so that images
    /// installing the same wheel share that layer.
    var splitsPackages = false
}

/// A mount present only while a `RUN` step runs; nothing under it reaches the layer.
enum RunMount: Sendable, Equatable, Hashable {
    /// A directory kept between builds (apt archives, pip caches), shared by every step naming `id`.
    case cache(target: String, id: String)
    /// A build secret (`--secret id=…`) mounted read-only as a file at `target`. As in BuildKit it is optional:
    /// a build without it runs the step without the file, unless `required`.
    case secret(id: String, target: String, required: Bool)
}
