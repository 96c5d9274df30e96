import CSupport
import Foundation

/// How far sandboxed commands (build steps, served models) are shut off from the host. Every mode pivots into
/// the image, cuts capabilities to Docker's default set and sets no_new_privs; the rest depends on what the
/// kernel and the machine allow, found once per process (see the README's threat model).
public struct Confinement: Sendable, Equatable, CustomStringConvertible {
    /// The network a sandboxed command gets (`--network`).
    public enum Network: String, Sendable, CaseIterable {
        /// A namespace of its own, outbound through slirp4netns; the host's loopback services are out of reach.
        case isolated = "default"
        /// The host's network, as Docker's `--network host`.
        case host
        /// A namespace with only a loopback.
        case none
    }

    /// Steps get a user namespace of their own (root inside has no capability over the host).
    public var userNamespace: Bool
    /// No namespace and no mount can be made (a CI container as root under a default seccomp profile): steps run
    /// with chroot only, in a plain tree (snapshot capture), on the host's network, without /proc.
    public var chrootOnly = false
    /// The seccomp filter is installed.
    public var seccomp: Bool
    public var network: Network
    /// What is weaker than the default and why, one clause each (empty when nothing is).
    public var shortfalls: [String]

    /// What this machine allows for the network `requested` (`.isolated` unless the user chose otherwise).
    /// - Parameter searchPath: the caller's `PATH`, where slirp4netns is looked for.
    public static func detect(network requested: Network = .isolated, searchPath: String) -> Confinement {
        let probe = probed
        var shortfalls: [String] = []
        let userNamespace = probe & 1 != 0
        if !userNamespace {
            shortfalls.append(
                "no user namespace can be created (user.max_user_namespaces is 0, or AppArmor refuses): root in a step is the host's root with Docker's default capabilities"
            )
        }
        let seccomp = probe & 2 != 0
        if !seccomp {
            shortfalls.append(
                "this kernel has no seccomp filters: steps may call mount, unshare, bpf and the like (still without the capabilities most of them need)"
            )
        }
        let chrootOnly = probe & 4 == 0
        var network = requested
        if chrootOnly {
            network = .host
            shortfalls.append(
                "no namespace or mount can be made here (no user namespace, no CAP_SYS_ADMIN or a seccomp profile refusing unshare and mount, as in a default Docker or Kubernetes container): steps run with chroot only (without CAP_SYS_CHROOT), on the host's network, without /proc, and are captured by comparing snapshots"
            )
        } else if requested == .host {
            shortfalls.append("--network host: steps share the host's network, including its loopback services")
        } else if requested == .isolated, let missing = slirpUnavailable(searchPath: searchPath) {
            network = .host
            shortfalls.append("\(missing): steps share the host's network, including its loopback services")
        }
        return Confinement(
            userNamespace: userNamespace, chrootOnly: chrootOnly, seccomp: seccomp, network: network,
            shortfalls: shortfalls)
    }

    /// The sandbox's `--userns` for `mapping`.
    func userNamespaceArgument(for mapping: IDMapping) -> String {
        if chrootOnly { return "none" }
        if mapping == .single { return "single" }
        return userNamespace ? "identity" : "none"
    }

    /// The sandbox's `--net`.
    var networkArgument: String {
        switch network {
        case .isolated: return "slirp"
        case .host: return "host"
        case .none: return "none"
        }
    }

    public var description: String {
        if chrootOnly {
            return
                "confined: chroot only, Docker's default capabilities less CAP_SYS_CHROOT, \(seccomp ? "seccomp" : "no seccomp"), host network"
        }
        let privileges = userNamespace ? "user namespace of their own" : "no user namespace (bounding set cut)"
        let net: String
        switch network {
        case .isolated: net = "own network through slirp4netns"
        case .host: net = "host network"
        case .none: net = "no network"
        }
        return
            "confined: pivot_root, \(privileges), Docker's default capabilities, \(seccomp ? "seccomp" : "no seccomp"), \(net)"
    }

    /// The kernel's answer, asked once (`cog_confinement_probe` forks).
    private static let probed: Int32 = cog_confinement_probe()

    /// Why slirp4netns cannot run here, or nil when it can.
    private static func slirpUnavailable(searchPath: String) -> String? {
        let path = searchPath.split(separator: ":")
        guard path.contains(where: { access("\($0)/slirp4netns", X_OK) == 0 }) else {
            return "slirp4netns is not installed (Debian: apt-get install slirp4netns)"
        }
        guard access("/dev/net/tun", R_OK | W_OK) == 0 else {
            return "/dev/net/tun is missing or not usable by this user (its usual mode is 0666)"
        }
        return nil
    }
}
