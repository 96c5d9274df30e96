import Foundation

/// The cog runtime package (`cog` from PyPI) installed into the image, chosen to support its Python.
struct CogRuntime: Sendable, Equatable {
    /// The pip requirement: `cog==0.23.1`, or `cog` with `preRelease` for `sdk_version: prerelease`.
    var requirement: String
    /// Whether pip must be allowed pre-releases (`--pre`).
    var preRelease = false

    // Found on 2026-11-26 with `pip index versions cog` and the PyPI JSON API (https://pypi.org/pypi/cog/json):
    // the newest release is 0.23.1; every release from 0.17.0a2 on declares requires_python ">=3.10", and 0.16.12
    // is the newest release declaring ">=3.8".
    /// The newest cog release, installed by default on Python 3.10 and newer.
    static let newest = "0.23.1"
    /// The newest cog release that installs on Python 3.8 and 3.9.
    static let newestForPython38 = "0.16.12"

    /// The release installed, as the image's `run.cog.version` label and its schema's `info.version` name it: Cog
    /// writes its own version there and installs the cog package of that same version, so `cog.__version__` in the
    /// image equals the label. An unpinned prerelease has no version before pip runs: it gets the Cog release followed.
    var version: String {
        requirement.hasPrefix("cog==") ? String(requirement.dropFirst("cog==".count)) : CompatibilityTables.cogRelease
    }

    /// The runtime for an image with `python`, honouring `sdk_version` when cog.yaml sets it.
    static func select(sdkVersion: String?, python: ReleaseVersion) -> Result<CogRuntime, RuleViolation> {
        let modernPython = python >= ReleaseVersion(major: 3, minor: 10)
        guard let sdkVersion else {
            return .success(CogRuntime(requirement: "cog==\(modernPython ? newest : newestForPython38)"))
        }
        if sdkVersion == "prerelease" {
            guard modernPython else {
                return .failure(
                    RuleViolation(
                        message:
                            "sdk_version prerelease installs a cog that needs Python 3.10 or newer, but this image has Python \(python)",
                        hint:
                            "set python_version: \"3.10\" or newer, or remove sdk_version to get cog \(newestForPython38)"
                    ))
            }
            return .success(CogRuntime(requirement: "cog", preRelease: true))
        }
        let release = releaseNumbers(sdkVersion) ?? []
        if !modernPython, !release.lexicographicallyPrecedes([0, 17]) {
            return .failure(
                RuleViolation(
                    message: "cog \(sdkVersion) needs Python 3.10 or newer, but this image has Python \(python)",
                    hint:
                        "set python_version: \"3.10\" or newer, or sdk_version: \"\(newestForPython38)\" (the newest cog for Python \(python.majorMinor))"
                ))
        }
        return .success(CogRuntime(requirement: "cog==\(sdkVersion)", preRelease: isPreRelease(sdkVersion)))
    }

    /// The release numbers of a PEP 440 version (`0.18.0a1` → [0, 18, 0]), or nil when it is not one.
    static func releaseNumbers(_ text: String) -> [Int]? {
        let pattern = #"^v?([0-9]+(\.[0-9]+)*)((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$"#
        guard text.range(of: pattern, options: .regularExpression) != nil else { return nil }
        let release = text.drop { $0 == "v" }.prefix { $0.isNumber || $0 == "." }
        return release.split(separator: ".").compactMap { Int($0) }
    }

    private static func isPreRelease(_ version: String) -> Bool {
        version.range(of: #"(a|b|rc|\.dev)[0-9]+"#, options: .regularExpression) != nil
    }
}
