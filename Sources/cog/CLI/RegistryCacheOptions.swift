import ArgumentParser
import CogEngine
import Registry

/// `--cache-from` and `--cache-to`, shared by `cog build` and `cog push`: registry repositories used as step
/// caches, as BuildKit's registry cache and kaniko's `--cache-repo`.
struct RegistryCacheOptions: ParsableArguments {
    @Option(
        name: .customLong("cache-from"),
        help: ArgumentHelp(
            "Look steps up in this registry repository before running them (repeatable, tried in order).",
            valueName: "ref"))
    var cacheFrom: [String] = []
    @Option(
        name: .customLong("cache-to"),
        help: ArgumentHelp(
            "Store each step's layers in this registry repository once the steps have succeeded (repeatable).",
            valueName: "ref"))
    var cacheTo: [String] = []

    func validate() throws {
        for (flag, values) in [("--cache-from", cacheFrom), ("--cache-to", cacheTo)] {
            for value in values {
                do { _ = try Self.reference(value) } catch { throw ValidationError("\(flag) \(value): \(error)") }
            }
        }
    }

    /// The settings, once `validate` passed.
    var settings: RegistryCacheSettings {
        RegistryCacheSettings(
            importFrom: cacheFrom.compactMap { try? Self.reference($0) },
            exportTo: cacheTo.compactMap { try? Self.reference($0) })
    }

    /// `REGISTRY/REPOSITORY`, or BuildKit's `type=registry,ref=REGISTRY/REPOSITORY[,…]` (other keys ignored). A
    /// tag is allowed and unused (each step has a tag of its own); a digest is not.
    static func reference(_ value: String) throws -> ImageReference {
        var text = value
        if value.contains("=") {
            var fields: [String: String] = [:]
            for field in value.split(separator: ",") {
                let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
                fields[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            guard fields["type"] == nil || fields["type"] == "registry" else {
                throw RegistryError.invalidReference(value, reason: "only type=registry caches are supported")
            }
            guard let ref = fields["ref"], !ref.isEmpty else {
                throw RegistryError.invalidReference(value, reason: "give ref=REGISTRY/REPOSITORY")
            }
            text = ref
        }
        let reference = try ImageReference(parsing: text)
        guard reference.digest == nil else {
            throw RegistryError.invalidReference(value, reason: "a cache is a repository; leave out the @digest")
        }
        return reference
    }
}
