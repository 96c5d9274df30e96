import Foundation

/// The user namespace rootless builds run in when the caller has a subordinate id range: cog re-executes
/// itself inside it (CSupport/userns.c), so unpacking layers with their owners, running steps and capturing or
/// removing their files all happen as root of one namespace, with the image's ids 1… backed by the range.
public enum UserNamespace {
    /// A subordinate range from /etc/subuid or /etc/subgid.
    public struct Range: Sendable, Equatable {
        public var start: UInt32
        public var count: UInt32
        public init(start: UInt32, count: UInt32) {
            self.start = start
            self.count = count
        }
    }

    /// The first range `file` gives the user `name` (or the numeric `id`), if any.
    public static func range(in file: String, name: String?, id: UInt32) -> Range? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count == 3, !fields[0].hasPrefix("#"), fields[0] == name || fields[0] == String(id),
                let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0
            else { continue }
            return Range(start: start, count: count)
        }
        return nil
    }

    /// The mapping this caller would get: its own ranges from /etc/subuid and /etc/subgid.
    public static func subordinateMapping(subuid: String = "/etc/subuid", subgid: String = "/etc/subgid") -> IDMapping?
    {
        let name = getpwuid(getuid()).flatMap { String(validatingCString: $0.pointee.pw_name) }
        guard let uids = range(in: subuid, name: name, id: getuid()),
            let gids = range(in: subgid, name: name, id: getgid()) ?? range(in: subgid, name: name, id: getuid())
        else { return nil }
        return .subordinate(uidStart: uids.start, uidCount: uids.count, gidStart: gids.start, gidCount: gids.count)
    }

    /// The mapping of the namespace this process was re-executed in (`COG_USERNS`), when it is running there.
    static func current(environment: [String: String]) -> IDMapping? {
        guard geteuid() == 0, let value = environment["COG_USERNS"], isInsideUserNamespace else { return nil }
        let numbers = value.split(separator: ":").dropFirst().compactMap { UInt32($0) }
        guard value.hasPrefix("subid:"), numbers.count == 4 else { return nil }
        return .subordinate(uidStart: numbers[0], uidCount: numbers[1], gidStart: numbers[2], gidCount: numbers[3])
    }

    /// Whether this process runs in a user namespace other than the initial one (whose map is the identity).
    public static var isInsideUserNamespace: Bool {
        let map = (try? String(contentsOfFile: "/proc/self/uid_map", encoding: .utf8)) ?? ""
        return map.split(whereSeparator: \.isWhitespace) != ["0", "0", "4294967295"]
    }

    /// Why the namespace is not entered, or nil when it should be: rootless, not inside yet, a subordinate range
    /// present, newuidmap installed, and `COG_ROOTLESS` not `single`.
    public static func reasonToStayOutside(mapping: IDMapping?, environment: [String: String]) -> String? {
        if geteuid() == 0 { return "running as root" }
        if environment["COG_USERNS"] != nil { return "already re-executed" }
        if environment["COG_ROOTLESS"] == "single" { return "COG_ROOTLESS=single" }
        guard mapping != nil else {
            return "no subordinate id range for this user in /etc/subuid and /etc/subgid (add one for the full mapping)"
        }
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard path.contains(where: { access("\($0)/newuidmap", X_OK) == 0 && access("\($0)/newgidmap", X_OK) == 0 })
        else {
            return "newuidmap/newgidmap not found (Debian: apt-get install uidmap)"
        }
        return nil
    }

    /// Replaces this process with itself running inside the namespace, when a rootless caller has a
    /// subordinate range; returns (doing nothing) otherwise. Call before any work starts.
    public static func enterIfPossible(environment: [String: String], arguments: [String] = CommandLine.arguments) {
        let mapping = subordinateMapping()
        guard reasonToStayOutside(mapping: mapping, environment: environment) == nil, let mapping else { return }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
        let argv = [executable, "__userns", mapping.argument, "--", executable] + arguments.dropFirst()
        let cArguments = argv.map { strdup($0) } + [nil]
        execv(executable, cArguments)
        // execv only returns on failure: go on outside, with the single mapping.
        for argument in cArguments { free(argument) }
    }
}
