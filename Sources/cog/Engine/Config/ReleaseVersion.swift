/// A `MAJOR.MINOR[.PATCH][+LOCAL]` version compared the way Cog compares CUDA, torch and Python versions.
///
/// Cog's rule (`pkg/util/version`): two versions *match* when major and minor are equal and, only if both
/// have one, the patch is equal too, so `12.8` matches `12.8.0` and `12.8.1`. Ordering treats a missing patch
/// as 0 and ignores the local part.
struct ReleaseVersion: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    var major: Int
    var minor: Int
    var patch: Int?
    /// The part after `+` (`cu128`), if any.
    var local: String?

    /// Parses `text`; nil when it is not one to three dot-separated integers with an optional `+local`.
    init?(_ text: String) {
        let plusParts = text.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        let numbers = plusParts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(numbers.count) else { return nil }
        var values: [Int] = []
        for number in numbers {
            guard !number.isEmpty, number.allSatisfy(\.isASCII), let value = Int(number), value >= 0 else { return nil }
            values.append(value)
        }
        major = values[0]
        minor = values.count > 1 ? values[1] : 0
        patch = values.count > 2 ? values[2] : nil
        local = plusParts.count > 1 ? String(plusParts[1]) : nil
    }

    init(major: Int, minor: Int, patch: Int? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// `major.minor`, the form Python and CUDA families are named by.
    var majorMinor: String { "\(major).\(minor)" }

    var description: String {
        var text = majorMinor
        if let patch { text += ".\(patch)" }
        if let local { text += "+\(local)" }
        return text
    }

    /// Cog's `Matches`: same major and minor, and the same patch when both sides name one.
    func matches(_ other: ReleaseVersion) -> Bool {
        guard major == other.major, minor == other.minor else { return false }
        if let patch, let otherPatch = other.patch { return patch == otherPatch }
        return true
    }

    /// Whether both name the same `major.minor`.
    func sameMinor(_ other: ReleaseVersion) -> Bool { major == other.major && minor == other.minor }

    static func < (lhs: ReleaseVersion, rhs: ReleaseVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch ?? 0) < (rhs.major, rhs.minor, rhs.patch ?? 0)
    }

    /// Cog's string-level `Matches`: false when either side does not parse.
    static func matches(_ lhs: String, _ rhs: String) -> Bool {
        guard let left = ReleaseVersion(lhs), let right = ReleaseVersion(rhs) else { return false }
        return left.matches(right)
    }

    /// The version without its `+local` part (`2.7.1+cu128` → `2.7.1`), as text.
    static func strippingLocal(_ text: String) -> String {
        String(text.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }
}
