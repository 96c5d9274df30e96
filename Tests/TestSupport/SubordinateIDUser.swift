import Foundation

/// A system user with a subordinate id range in /etc/subuid and /etc/subgid, for rootless builds with the full
/// mapping. Made on first use (root only); left in place, like the cached base image.
public enum SubordinateIDUser {
    public static let name = "cog-subid-test"
    public static let firstID: UInt32 = 400_000
    public static let count: UInt32 = 65_536
    private static let lock = NSLock()

    /// The user's uid and gid, creating the user and its ranges when missing.
    public static func ensure() throws -> (uid: UInt32, gid: UInt32) {
        lock.lock()
        defer { lock.unlock() }
        if try runCommand(["id", "-u", name]).status != 0 {
            let add = try runCommand(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            guard add.status == 0 else { throw TestSetupError("useradd \(name): \(add.output)") }
        }
        let range = "\(firstID)-\(firstID + count - 1)"
        for (file, flag) in [("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")] {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            guard !text.split(separator: "\n").contains(where: { $0.hasPrefix("\(name):") }) else { continue }
            let add = try runCommand(["usermod", flag, range, name])
            guard add.status == 0 else { throw TestSetupError("usermod \(flag) \(range) \(name): \(add.output)") }
        }
        guard
            let uid = UInt32(
                try runCommand(["id", "-u", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            let gid = UInt32(try runCommand(["id", "-g", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw TestSetupError("cannot read the ids of \(name)")
        }
        return (uid, gid)
    }

    /// `setpriv` arguments that run what follows as the user, with `HOME` and the given variables.
    public static func command(home: String, environment: [String: String] = [:]) throws -> [String] {
        let (uid, gid) = try ensure()
        return ["setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "env", "HOME=\(home)"]
            + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
