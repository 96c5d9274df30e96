import Foundation

/// The completed config as Cog writes it into the `run.cog.config` label: `json.Marshal` of Cog's `Config`,
/// keys as in cog.yaml, empty values left out (`build` always present), here with sorted keys.
extension CompletedConfig {
    /// Canonical JSON (sorted keys, unescaped slashes) of the completed config in Cog's shape.
    func labelJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a String, Bool, Int or array of them: encoding cannot fail.
        guard let data = try? encoder.encode(LabelConfig(self)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Cog's `Config` JSON shape.
private struct LabelConfig: Encodable {
    struct Build: Encodable {
        var gpu: Bool?
        var pythonVersion: String?
        var pythonRequirements: String?
        var pythonPackages: [String]?
        var run: [Run]?
        var systemPackages: [String]?
        var preInstall: [String]?
        var cuda: String?
        var cudnn: String?
        var sdkVersion: String?

        enum CodingKeys: String, CodingKey {
            case gpu, run, cuda, cudnn
            case pythonVersion = "python_version"
            case pythonRequirements = "python_requirements"
            case pythonPackages = "python_packages"
            case systemPackages = "system_packages"
            case preInstall = "pre_install"
            case sdkVersion = "sdk_version"
        }
    }

    struct Run: Encodable {
        struct Mount: Encodable { var type = "secret", id: String, target: String }
        var command: String
        var mounts: [Mount]?
    }

    struct Concurrency: Encodable { var max: Int }

    struct Weight: Encodable {
        struct Source: Encodable { var uri: String, include: [String]?, exclude: [String]? }
        enum Sources: Encodable {
            case one(Source)
            case many([Source])
            func encode(to encoder: Encoder) throws {
                switch self {
                case .one(let source): try source.encode(to: encoder)
                case .many(let sources): try sources.encode(to: encoder)
                }
            }
        }
        var name: String, target: String, source: Sources
    }

    var build: Build
    var image: String?
    var model: String?
    var predict: String?
    var train: String?
    var concurrency: Concurrency?
    var environment: [String]?
    var weights: [Weight]?

    init(_ completed: CompletedConfig) {
        let config = completed.config
        let section = config.build
        build = Build(
            gpu: section.gpu ? true : nil, pythonVersion: section.pythonVersion,
            pythonRequirements: section.pythonRequirements,
            pythonPackages: Self.nonEmpty(section.pythonPackages),
            run: Self.nonEmpty(
                section.run.map { item in
                    Run(
                        command: item.command,
                        mounts: Self.nonEmpty(item.mounts.map { Run.Mount(id: $0.id, target: $0.target) }))
                }),
            systemPackages: Self.nonEmpty(section.systemPackages), preInstall: Self.nonEmpty(section.preInstall),
            cuda: section.cuda, cudnn: section.cudnn, sdkVersion: section.sdkVersion)
        image = config.image
        model = config.model
        predict = config.predict
        train = config.train
        concurrency = config.concurrencyMax.map(Concurrency.init)
        environment = Self.nonEmpty(config.environment)
        weights = Self.nonEmpty(
            config.weights.map { weight in
                let sources = weight.sources.map {
                    Weight.Source(uri: $0.uri, include: Self.nonEmpty($0.include), exclude: Self.nonEmpty($0.exclude))
                }
                return Weight(
                    name: weight.name, target: weight.target,
                    source: sources.count == 1 ? .one(sources[0]) : .many(sources))
            })
    }

    private static func nonEmpty<T>(_ values: [T]) -> [T]? { values.isEmpty ? nil : values }
}
