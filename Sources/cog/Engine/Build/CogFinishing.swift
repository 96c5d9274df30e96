import Foundation
import Layers
import OCI

/// What Cog adds to an image once its steps have run: `run.cog.pip_freeze`, the OpenAPI schema (label and
/// `/src/.cog/openapi_schema.json`, which the runtime serves and validates inputs against), and its labels. Both
/// facts are read from the built filesystem by running Python inside it, with the image's own `cog` package, so
/// the schema is exactly what the runtime serves.
struct CogFinishing {
    let session: BuildSession

    /// Where the schema goes inside the image.
    static let schemaPath = "src/.cog/openapi_schema.json"

    /// `pip freeze` and the schema (from `--openapi-schema`, or generated for the plan's predictor). With the
    /// project mounted: the schema only, from the mounted project, and only when asked for.
    func readMetadata() async throws -> CogMetadata {
        switch session.settings.project {
        case .copied:
            return CogMetadata(pipFreeze: try await pipFreeze(), schema: try await schema())
        case .mounted(let wanted):
            return CogMetadata(pipFreeze: nil, schema: wanted ? try await schema() : nil)
        }
    }

    /// `pip freeze` in the image, kept with the step cache under the chain key before the project copy: a code
    /// edit does not change what is installed, so a rebuild does not start pip again (about 0.3 s).
    private func pipFreeze() async throws -> String {
        let settings = session.settings
        let file = session.chainKeyBeforeProject.map { "\(settings.paths.steps)/pip-freeze-\($0.encoded)" }
        if !settings.noCache, let file, let kept = try? String(contentsOfFile: file, encoding: .utf8) { return kept }
        let freeze = try await inspect(
            ["/bin/sh", "-c", "python -m pip freeze 2>/dev/null"], workingDirectory: "/", what: "pip freeze")
        if let file {
            // Kept only to save time: a cache that cannot take it costs the next build a run of pip.
            try? FileSystem.makeDirectory(settings.paths.steps)
            try? FileSystem.writeAtomically(Data(freeze.utf8), to: file)
        }
        return freeze
    }

    private func schema() async throws -> String {
        if let file = session.settings.schemaFile { return try Self.readSchema(file) }
        guard let predictor = session.plan.predictor, !predictor.isEmpty else { throw BuildError.noPredictor }
        return try await withTrainer(try await generateSchema(predictor))
    }

    /// The project at /src for steps reading it, read-only, when it is mounted rather than copied.
    private var projectMounts: [SandboxConfiguration.Bind] {
        guard case .mounted = session.settings.project else { return [] }
        return [.init(source: session.projectDirectory, destination: "/src", readOnly: true)]
    }

    /// As Cog's GenerateCombined: the trainer's schema, when cog.yaml names one, merged into the predictor's under
    /// the training names (what `cog train` checks inputs against, and what the runtime passes a training). A
    /// trainer whose schema cannot be made costs `cog train` its checks, not the build: a warning says so.
    private func withTrainer(_ predict: String) async throws -> String {
        guard let trainer = session.plan.trainer, !trainer.isEmpty else { return predict }
        do {
            return try TrainingSchema.merge(predict: predict, train: try await generateSchema(trainer))
        } catch BuildError.interrupted {
            throw BuildError.interrupted
        } catch {
            session.progress.warning(
                "no training schema for \(trainer) (cog train will neither check nor pass its inputs): \(error)")
            return predict
        }
    }

    /// The schema the runtime serves for the predictor in /src: read from the source without importing it
    /// (`Data/openapi_schema_static.py`), or, for what that cannot decide (it exits 3 with the reason), by
    /// importing the predictor with the image's own cog (`Data/openapi_schema.py`). Errors in the predictor (a
    /// failing import) and what Cog's static parser refuses (the static script's exit status 4) fail the build with
    /// their output.
    private func generateSchema(_ predictor: String) async throws -> String {
        let staticScript = try Self.script("openapi_schema_static")
        let importScript = try Self.script("openapi_schema")
        // stderr goes to files shown only on failure, so warnings cannot corrupt the JSON. The first line says
        // which method gave the schema. Exit status 4: what Cog's static parser refuses fails the build, no fallback.
        let command = """
            python -c "$COG_SCHEMA_STATIC" "$1" "$2" >/tmp/cog-schema.json 2>/tmp/cog-schema.err
            status=$?
            if [ $status -eq 0 ]; then echo static; cat /tmp/cog-schema.json; exit 0; fi
            if [ $status -eq 4 ]; then cat /tmp/cog-schema.err; exit 1; fi
            echo "import: $(tail -n 1 /tmp/cog-schema.err)"
            python -c "$COG_SCHEMA_SCRIPT" "$1" "$2" 2>/tmp/cog-schema.err || { cat /tmp/cog-schema.err; exit 1; }
            """
        let output = try await inspect(
            ["/bin/sh", "-c", command, "schema", predictor, session.plan.schemaVersion], workingDirectory: "/src",
            what: "OpenAPI schema of \(predictor)",
            extraEnvironment: ["COG_SCHEMA_STATIC=\(staticScript)", "COG_SCHEMA_SCRIPT=\(importScript)"])
        let lines = output.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let method = lines.first.map(String.init) ?? ""
        session.progress.info(
            method == "static"
                ? "   schema read from the source, without importing the predictor"
                : "   schema from importing the predictor (\(method.dropFirst("import: ".count)))")
        let json = (lines.count > 1 ? String(lines[1]) : "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil else {
            throw BuildError.schemaNotJSON(output: json)
        }
        return json
    }

    /// A Python script of the engine's resources.
    static func script(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "py", subdirectory: "Data"),
            let script = try? String(contentsOf: url, encoding: .utf8)
        else { throw BuildError.schemaGeneratorMissing }
        return script
    }

    /// Runs `command` in the image as built so far and returns everything it printed.
    private func inspect(_ command: [String], workingDirectory: String, what: String, extraEnvironment: [String] = [])
        async throws -> String
    {
        var step = StepRunner.Step(
            command: command, environment: session.state.environmentList + extraEnvironment,
            workingDirectory: workingDirectory)
        step.mounts = projectMounts
        let collected = OutputTail(limit: .max)
        let (capture, cancel, stack, request) = (
            session.capture, session.cancel, session.state.stack(blobs: session.settings.paths.blobs), step
        )
        let status = try await Blocking.run {
            try capture.inspect(request, on: stack, cancel: cancel) { collected.add($0) }
        }
        guard status == 0 else {
            if cancel.isSet { throw BuildError.interrupted }
            throw BuildError.stepFailed(step: what, status: status, lastLines: Array(collected.lines.suffix(25)))
        }
        return collected.lines.joined(separator: "\n") + "\n"
    }

    /// The schema file given with `--openapi-schema`, checked to be a JSON object.
    static func readSchema(_ path: String) throws -> String {
        let data: Data
        do { data = try FileSystem.read(path) } catch let OCIError.system(cause) {
            throw BuildError.schemaFileUnreadable(path: path, cause: cause)
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw BuildError.schemaFileNotObject(path: path)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The image's labels: the base's, the plan's, then the metadata, the base's name and digest, and a cog-base
    /// image's last layer.
    static func labels(plan: BuildPlan, base: BaseImage, metadata: CogMetadata) -> [String: String] {
        var labels = base.image.configuration.config?.labels ?? [:]
        for (key, value) in plan.image.labels { labels[key] = value }
        labels["org.opencontainers.image.base.name"] = base.reference.description
        labels["org.opencontainers.image.base.digest"] = base.image.descriptor.digest.description
        // As Cog: the cog-base image's last layer by its DiffID (the config's rootfs.diff_ids) and its index.
        if plan.cogBaseImage != nil, let last = base.image.configuration.rootfs.diffIDs.last {
            labels[BuildPlan.Label.cogBaseImageLastLayerSHA] = last.description
            labels[BuildPlan.Label.cogBaseImageLastLayerIndex] = String(
                base.image.configuration.rootfs.diffIDs.count - 1)
        }
        guard let freeze = metadata.pipFreeze else { return labels }  // a mounted project's image: no code facts
        labels["run.cog.pip_freeze"] = freeze
        labels["run.cog.openapi_schema"] = metadata.schema
        return labels
    }
}

/// The facts Cog records about a built image. With the project mounted there is no `pip freeze`, and the schema
/// (of the code as it is now) is no label: the image config stays the same whatever the code.
struct CogMetadata {
    let pipFreeze: String?
    let schema: String?
}

extension BuildSession {
    /// The schema file as a layer of its own, on top of everything else.
    func addSchemaLayer(_ schema: String) async throws {
        try await addLayer(
            entries: fileEntries(path: CogFinishing.schemaPath, contents: Array(schema.utf8)),
            createdBy: "COPY openapi_schema.json /src/.cog/")
    }

    /// The schema where the runtime reads it through the mount, `.cog/openapi_schema.json` in the project, as Cog
    /// writes it there.
    func writeMountedSchema(_ schema: String) throws {
        let directory = "\(projectDirectory)/.cog"
        do {
            try FileSystem.makeDirectory(directory)
            try FileSystem.writeAtomically(Data(schema.utf8), to: "\(directory)/openapi_schema.json")
        } catch let OCIError.system(cause) {
            throw BuildError.schemaNotWritten(path: "\(directory)/openapi_schema.json", cause: cause)
        }
    }

    /// Writes the image config and the manifest (OCI media types, base layers' digests kept) into the store.
    func assemble(base: BaseImage, metadata: CogMetadata) throws -> StoredImage {
        var ports: [String: EmptyObject] = [:]
        for port in plan.image.exposedPorts { ports[port] = EmptyObject() }
        var final = state
        for variable in plan.image.env where final.value(of: variable.name) == nil {
            final.set(variable.name, variable.expandedValue { final.value(of: $0) })
        }
        let descriptors = try state.layers.map { layer -> (Descriptor, Digest) in
            guard case .written(let descriptor, let diffID, _) = layer else { throw BuildError.layerNotSettled }
            return (descriptor, diffID)
        }
        let configuration = ImageConfiguration(
            created: settings.created, architecture: "amd64", os: "linux",
            config: .init(
                exposedPorts: ports, env: final.environmentList, entrypoint: plan.image.entrypoint, cmd: plan.image.cmd,
                workingDir: plan.image.workingDir,
                labels: CogFinishing.labels(plan: plan, base: base, metadata: metadata)),
            rootfs: .init(diffIDs: descriptors.map(\.1)),
            history: state.history)
        let annotations = [
            "org.opencontainers.image.base.name": base.reference.description,
            "org.opencontainers.image.base.digest": base.image.descriptor.digest.description,
        ]
        return try ImageWriter.write(
            configuration: configuration, layers: descriptors.map(\.0), annotations: annotations,
            into: settings.paths.blobs)
    }
}
