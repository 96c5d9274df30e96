/// Reads the YAML tree of a cog.yaml into a `CogConfig`, checking every key and value.
///
/// Each problem goes into `log` with its position and decoding carries on, so one pass reports all of them.
/// The oldest schema (an `environment:` stanza holding the build keys, `model: "model.py:Class"`) is read as
/// the current one and noted in a single warning.
struct ConfigDecoder {
    var log: DiagnosticLog
    var decoded = DecodedConfig(config: CogConfig())
    /// Older keys met, with their current names, for the one schema warning.
    var renamedKeys: [(old: String, new: String, mark: SourceMark)] = []
    /// Older keys that no longer mean anything and were skipped.
    var droppedKeys: [String] = []

    static let topLevelKeys = [
        "build", "image", "model", "run", "predict", "train", "concurrency", "environment", "weights",
    ]
    static let buildKeys = [
        "gpu", "python_version", "python_requirements", "python_packages", "system_packages", "run", "pre_install",
        "cuda", "cudnn", "sdk_version", "python_extra_index_urls", "python_find_links",
    ]
    /// Keys only the oldest schema had, at the top level and in its `environment` stanza.
    static let legacyTopLevelKeys = ["examples", "workdir", "name"]
    static let legacyBuildKeys = ["architectures", "build_requires_gpu", "post_install", "workdir"]

    /// Decodes `root` (nil for a file with no document) into a config, recording problems in `log`.
    static func decode(_ root: YAMLNode?, log: inout DiagnosticLog) -> DecodedConfig {
        var decoder = ConfigDecoder(log: log)
        decoder.decodeRoot(root)
        log = decoder.log
        return decoder.decoded
    }

    private mutating func decodeRoot(_ root: YAMLNode?) {
        guard let root, !root.isNull else { return }
        guard let pairs = root.mapping else {
            var hint = "start with keys such as build: and predict:"
            if let text = root.scalar, text.hasSuffix(".yaml") || text.hasSuffix(".yml") {
                hint =
                    "the file holds only the text \"\(text)\"; a symbolic link saved as a plain file looks like this: replace it with the file it points to"
            }
            log.error(
                "cog.yaml must be a mapping of keys such as build: and predict:, but it holds \(root.kindDescription)",
                at: root.mark, hint: hint)
            return
        }
        let legacyStanza = pairs.first { $0.key.scalar == "environment" }.map { $0.value.mapping != nil } ?? false
        let legacyModel =
            pairs.first { $0.key.scalar == "model" }.flatMap(\.value.scalar).map { $0.contains(".py:") } ?? false
        decoded.usedLegacySchema = legacyStanza || legacyModel
        var keys = KeySet(known: Self.topLevelKeys)
        keys.ignored["tests"] = "tests: is no longer used by Cog and is ignored"
        if decoded.usedLegacySchema {
            keys.known += Self.legacyTopLevelKeys
        } else {
            keys.ignored["examples"] = "examples: is no longer used by Cog and is ignored"
        }
        for key in Self.buildKeys where !keys.known.contains(key) {
            keys.misplaced[key] = "\(key) belongs in the build section: move it under build:"
        }
        for (key, keyMark, value) in fields(of: root, section: "the top level", keys: keys) {
            decodeTopLevel(key, keyMark: keyMark, value: value, legacyStanza: legacyStanza)
        }
        checkAcrossKeys(pairs)
        warnAboutLegacySchema()
    }

    private mutating func decodeTopLevel(_ key: String, keyMark: SourceMark, value: YAMLNode, legacyStanza: Bool) {
        switch key {
        case "build":
            if legacyStanza {
                log.error(
                    "cog.yaml has both build: and the older environment: stanza", at: keyMark,
                    hint: "move the keys of environment: into build: and remove environment:")
            }
            decodeBuild(value, section: "build")
        case "environment":
            if value.mapping != nil {
                renamedKeys.append(("environment", "build", keyMark))
                decodeBuild(value, section: "environment")
            } else {
                decodeEnvironmentList(value)
            }
        case "image":
            guard let text = string(value, key: "image") else { return }
            if let violation = ConfigRules.checkImageName(text) {
                log.error(violation.message, at: value.mark, hint: violation.hint)
            }
            decoded.config.image = text
        case "model":
            guard let text = string(value, key: "model") else { return }
            if text.contains(".py:") {
                renamedKeys.append(("model", "predict", keyMark))
                setPredictor(text, key: "model", mark: value.mark)
            } else {
                if let violation = ConfigRules.checkModelRepository(text) {
                    log.error(violation.message, at: value.mark, hint: violation.hint)
                }
                decoded.config.model = text
            }
        case "run", "predict":
            guard let text = string(value, key: key) else { return }
            setPredictor(text, key: key, mark: value.mark)
        case "train":
            guard let text = string(value, key: key) else { return }
            if let violation = ConfigRules.checkPredictorReference(text, key: key) {
                log.error(violation.message, at: value.mark, hint: violation.hint)
            }
            decoded.config.train = text
            decoded.marks["train"] = value.mark
        case "concurrency":
            decodeConcurrency(value)
        case "weights":
            decodeWeights(value)
        default:
            droppedKeys.append(key)
        }
    }

    private mutating func setPredictor(_ text: String, key: String, mark: SourceMark) {
        if decoded.config.predict != nil {
            log.error(
                "only one of run, predict (or the older model) can name the predictor", at: mark,
                hint: "keep one; run: is the newer name of predict:")
            return
        }
        if let violation = ConfigRules.checkPredictorReference(text, key: key) {
            log.error(violation.message, at: mark, hint: violation.hint)
        }
        decoded.config.predict = text
        decoded.marks["predict"] = mark
    }

    private mutating func decodeConcurrency(_ node: YAMLNode) {
        if node.scalar != nil, !node.isNull {
            log.error(
                "concurrency must be a mapping with max, not \(node.kindDescription)", at: node.mark,
                hint: "write it as concurrency: {max: \(node.scalar.flatMap { Int($0) } ?? 4)}")
            return
        }
        var keys = KeySet(known: ["max"])
        keys.ignored["default_target"] = "concurrency.default_target is not used by Cog and is ignored"
        for (_, _, value) in fields(of: node, section: "concurrency", keys: keys) {
            guard let max = int(value, key: "concurrency.max") else { continue }
            if max < 1 {
                log.error(
                    "concurrency.max must be at least 1, not \(max)", at: value.mark,
                    hint: "set max: 1 for one prediction at a time")
            } else {
                decoded.config.concurrencyMax = max
                decoded.marks["concurrency.max"] = value.mark
            }
        }
    }

    /// Rules that span keys: `model` with `image`, weights without `model`.
    private mutating func checkAcrossKeys(_ pairs: [YAMLPair]) {
        let config = decoded.config
        if config.model != nil, config.image != nil,
            let mark = pairs.first(where: { $0.key.scalar == "model" })?.key.mark
        {
            log.error(
                "model and image cannot both be set", at: mark,
                hint: "model: names a bare repository for OCI bundle pushes; image: names a single image: keep one")
        }
        if !config.weights.isEmpty, config.model == nil,
            let mark = pairs.first(where: { $0.key.scalar == "weights" })?.key.mark
        {
            log.error(
                "weights need model: to name the repository they are pushed to", at: mark,
                hint: "add model: \"r8.im/your-username/your-model\"")
        }
    }

    private mutating func warnAboutLegacySchema() {
        guard let first = renamedKeys.min(by: { $0.mark < $1.mark }) else { return }
        var message = "this cog.yaml uses Cog's older schema: "
        message += renamedKeys.map { "\($0.old): is now \($0.new):" }.joined(separator: " and ")
        message += "; it was read as the newer one"
        if !droppedKeys.isEmpty {
            message += " (ignored keys that no longer exist: \(droppedKeys.joined(separator: ", ")))"
        }
        log.warning(message, at: first.mark, hint: "rename the keys to silence this warning")
    }
}
