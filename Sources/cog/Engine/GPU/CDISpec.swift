import Foundation

/// A Container Device Interface spec (github.com/cncf-tags/container-device-interface, SPEC.md), as
/// `nvidia-ctk cdi generate` writes it to /etc/cdi or /var/run/cdi: devices of one kind, each with the edits a
/// container needs to use it, and edits common to every device of the spec.
public struct CDISpec: Sendable, Equatable {
    /// The versions this reader knows: those nvidia-ctk and the CDI library have written. Fields added on the way
    /// (`hostPath` 0.5.0, `annotations` 0.6.0, `additionalGids` and `intelRdt` 0.7.0) are read or ignored.
    public static let supportedVersions = ["0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0"]

    public var version: String
    /// `vendor/class`, e.g. `nvidia.com/gpu`.
    public var kind: String
    public var devices: [Device]
    /// Applied whenever any device of this spec is.
    public var containerEdits: ContainerEdits
    /// The file it was read from.
    public var file: String

    public struct Device: Sendable, Equatable {
        public var name: String
        public var containerEdits: ContainerEdits
    }

    /// What a container gets for a device (SPEC.md "Container Edits").
    public struct ContainerEdits: Sendable, Equatable {
        public var env: [String] = []
        public var deviceNodes: [DeviceNode] = []
        public var mounts: [Mount] = []
        public var hooks: [Hook] = []
    }

    public struct DeviceNode: Sendable, Equatable {
        /// Where the node appears in the container.
        public var path: String
        /// The host's node, when it is not at `path` (0.5.0).
        public var hostPath: String?
        /// `c` or `b` (block devices are refused).
        public var type: String?
    }

    public struct Mount: Sendable, Equatable {
        public var hostPath: String
        public var containerPath: String
        public var options: [String]
        public var type: String?
        public var readOnly: Bool { options.contains("ro") || options.contains("readonly") }
    }

    /// An OCI hook; cog does the work of the hooks it knows instead of running host programs (see `GPUEdits`).
    public struct Hook: Sendable, Equatable {
        public var hookName: String
        public var path: String
        public var args: [String]
    }
}

extension CDISpec {
    /// Reads a spec from `file` (JSON for `.json`, YAML otherwise, through the project's libyaml parser).
    /// - Throws: `GPUError.malformedSpec` naming the file and the problem.
    public static func load(file: String) throws(GPUError) -> CDISpec {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .malformedSpec(file: file, problem: "cannot be read")
        }
        let root: Any
        if file.hasSuffix(".json") {
            do {
                root = try JSONSerialization.jsonObject(with: data)
            } catch {
                throw .malformedSpec(file: file, problem: "not valid JSON (\((error as NSError).localizedDescription))")
            }
        } else {
            do {
                guard let node = try YAMLParser.parse(String(decoding: data, as: UTF8.self)) else {
                    throw GPUError.malformedSpec(file: file, problem: "is empty")
                }
                root = node.plainValue
            } catch let error as YAMLSyntaxError {
                throw .malformedSpec(
                    file: file, problem: "not valid YAML: \(error.mark.line):\(error.mark.column): \(error.problem)")
            } catch let error as GPUError {
                throw error
            } catch {
                throw .malformedSpec(file: file, problem: "\(error)")
            }
        }
        do {
            return try CDISpec(value: root, file: file)
        } catch let problem as CDISpecProblem {
            throw .malformedSpec(file: file, problem: problem.text)
        } catch {
            throw .malformedSpec(file: file, problem: "\(error)")
        }
    }

    init(value: Any, file: String) throws {
        let object = try CDIValue(value, at: "the document").object()
        version = try object.string("cdiVersion")
        guard Self.supportedVersions.contains(version) else {
            throw CDISpecProblem(
                "cdiVersion \(version) is not one cog reads (\(Self.supportedVersions.first!)–\(Self.supportedVersions.last!))"
            )
        }
        kind = try object.string("kind")
        let parts = kind.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty }) else {
            throw CDISpecProblem("kind \"\(kind)\" is not vendor/class (such as nvidia.com/gpu)")
        }
        devices = try object.list("devices").enumerated().map { index, item in
            let device = try item.object()
            let name = try device.string("name")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-:".contains($0) }) else {
                throw CDISpecProblem("devices[\(index)].name \"\(name)\" is not a valid device name")
            }
            return Device(name: name, containerEdits: try ContainerEdits(device.optional("containerEdits")))
        }
        guard !devices.isEmpty else { throw CDISpecProblem("it defines no devices") }
        containerEdits = try ContainerEdits(object.optional("containerEdits"))
        self.file = file
    }
}

extension CDISpec.ContainerEdits {
    init(_ value: CDIValue?) throws {
        guard let value, !value.isNull else { return }
        let object = try value.object()
        env = try object.optional("env").map { try $0.list().map { try $0.string() } } ?? []
        deviceNodes = try (object.optional("deviceNodes")?.list() ?? []).map { item in
            let node = try item.object()
            let path = try node.string("path")
            guard path.hasPrefix("/") else { throw CDISpecProblem("\(item.place).path \"\(path)\" is not absolute") }
            return CDISpec.DeviceNode(
                path: path, hostPath: try node.optional("hostPath")?.string(), type: try node.optional("type")?.string()
            )
        }
        mounts = try (object.optional("mounts")?.list() ?? []).map { item in
            let mount = try item.object()
            return CDISpec.Mount(
                hostPath: try mount.string("hostPath"), containerPath: try mount.string("containerPath"),
                options: try mount.optional("options")?.list().map { try $0.string() } ?? [],
                type: try mount.optional("type")?.string())
        }
        hooks = try (object.optional("hooks")?.list() ?? []).map { item in
            let hook = try item.object()
            return CDISpec.Hook(
                hookName: try hook.string("hookName"), path: try hook.string("path"),
                args: try hook.optional("args")?.list().map { try $0.string() } ?? [])
        }
    }
}

/// What is wrong inside a spec, before the file name is added.
struct CDISpecProblem: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// A value of a decoded spec with where it is (`devices[0].containerEdits`), for messages.
struct CDIValue {
    let value: Any
    let place: String

    init(_ value: Any, at place: String) {
        self.value = value
        self.place = place
    }

    var isNull: Bool { value is NSNull }

    func object() throws -> CDIObject {
        guard let dictionary = value as? [String: Any] else { throw CDISpecProblem("\(place) must be a mapping") }
        return CDIObject(fields: dictionary, place: place)
    }

    func list() throws -> [CDIValue] {
        if isNull { return [] }
        guard let items = value as? [Any] else { throw CDISpecProblem("\(place) must be a list") }
        return items.enumerated().map { CDIValue($1, at: "\(place)[\($0)]") }
    }

    /// Text; YAML's unquoted numbers count as text too (a device named 0).
    func string() throws -> String {
        if let text = value as? String { return text }
        if let number = value as? NSNumber, !(value is Bool) { return number.stringValue }
        throw CDISpecProblem("\(place) must be a string")
    }
}

struct CDIObject {
    let fields: [String: Any]
    let place: String

    func optional(_ key: String) -> CDIValue? {
        fields[key].map { CDIValue($0, at: place == "the document" ? key : "\(place).\(key)") }
    }

    func string(_ key: String) throws -> String {
        guard let value = optional(key), !value.isNull else {
            throw CDISpecProblem("\(place == "the document" ? "" : "\(place).")\(key) is missing")
        }
        return try value.string()
    }

    func list(_ key: String) throws -> [CDIValue] {
        guard let value = optional(key) else {
            throw CDISpecProblem("\(place == "the document" ? "" : "\(place).")\(key) is missing")
        }
        return try value.list()
    }
}

extension YAMLNode {
    /// The node as JSONSerialization would give it: plain `true`/`false`, numbers and nulls typed, the rest text.
    var plainValue: Any {
        switch content {
        case .mapping(let pairs):
            var result: [String: Any] = [:]
            for pair in pairs { result[pair.key.scalar ?? ""] = pair.value.plainValue }
            return result
        case .sequence(let items):
            return items.map(\.plainValue)
        case .scalar(let text, let plain):
            guard plain, tag == nil else { return text }
            if isNull { return NSNull() }
            if ["true", "True", "TRUE"].contains(text) { return true }
            if ["false", "False", "FALSE"].contains(text) { return false }
            if let number = Int(text) { return NSNumber(value: number) }
            return text
        }
    }
}
