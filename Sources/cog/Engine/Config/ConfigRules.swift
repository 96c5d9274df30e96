import Foundation

/// A value that breaks a cog.yaml rule: what is wrong and how to fix it.
struct RuleViolation: Sendable, Equatable, Error {
    var message: String
    var hint: String?
}

/// The rules single cog.yaml values must follow, each a pure function from the text as written to the
/// violation a person reads (nil when the value is fine). The decoder adds where the value is.
enum ConfigRules {
    /// Python minors cog builds images for (the cog.yaml reference: "3.8, 3.9, 3.10, 3.11, 3.12, 3.13").
    static let supportedPythons = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
    /// Python chosen when cog.yaml names none and no pinned framework asks for another.
    static let defaultPython = "3.12"
    /// The oldest CUDA major with nvidia/cuda images that Cog supports.
    static let minimumCUDAMajor = 11

    /// `python_version`: a supported minor (`3.12`) or patch (`3.12.4`) version.
    static func checkPythonVersion(_ text: String) -> RuleViolation? {
        let example = "e.g. python_version: \"\(defaultPython)\""
        if text.allSatisfy(\.isNumber), !text.isEmpty {
            return RuleViolation(
                message: "python_version \"\(text)\" must include the minor version",
                hint: "write the minor or patch version, \(example)")
        }
        guard text.range(of: #"^[0-9]+\.[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil,
            let version = ReleaseVersion(text)
        else {
            return RuleViolation(
                message: "python_version \"\(text)\" is not a Python version",
                hint: "use the minor (3.12) or patch (3.12.4) form, \(example)")
        }
        guard supportedPythons.contains(version.majorMinor) else {
            return RuleViolation(
                message:
                    "Python \(text) is not supported: cog supports Python \(supportedPythons[0]) to \(supportedPythons[supportedPythons.count - 1])",
                hint: "set one of \(supportedPythons.joined(separator: ", ")), \(example)")
        }
        return nil
    }

    /// `cuda`: a minor (`11.8`) or patch (`11.8.0`) version, CUDA 11 or newer.
    static func checkCUDAVersion(_ text: String) -> RuleViolation? {
        let hint = "use the minor or patch form, quoted, e.g. cuda: \"11.8\" (or remove cuda to let cog choose)"
        if text.allSatisfy(\.isNumber), !text.isEmpty {
            return RuleViolation(message: "cuda \"\(text)\" must include the minor version", hint: hint)
        }
        guard text.range(of: #"^[0-9]+\.[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil,
            let version = ReleaseVersion(text)
        else {
            return RuleViolation(message: "cuda \"\(text)\" is not a CUDA version", hint: hint)
        }
        guard version.major >= minimumCUDAMajor else {
            return RuleViolation(
                message: "CUDA \(text) is not supported: the oldest CUDA cog builds on is \(minimumCUDAMajor)",
                hint: "remove cuda to let cog choose from your torch or tensorflow pin, or set cuda: \"11.8\" or newer")
        }
        return nil
    }

    /// `cudnn`: a major version such as `8` (Cog's images name cuDNN by major).
    static func checkCuDNN(_ text: String) -> RuleViolation? {
        guard text.range(of: #"^[0-9]+(\.[0-9]+)*$"#, options: .regularExpression) != nil else {
            return RuleViolation(
                message: "cudnn \"\(text)\" is not a cuDNN version",
                hint: "use the major version, e.g. cudnn: \"8\", or remove it to let cog choose")
        }
        return nil
    }

    /// `predict`, `run`, `train` (and the older `model`): `file.py:Name`, a Python file in the project and a
    /// class or function in it.
    static func checkPredictorReference(_ text: String, key: String) -> RuleViolation? {
        let example = key == "train" ? "train.py:Trainer" : key == "run" ? "run.py:Runner" : "predict.py:Predictor"
        let parts = text.components(separatedBy: ".py:")
        let hint = "use the form \"\(example)\": a .py file in the project, a colon, then the class or function name"
        guard parts.count == 2, !parts[0].isEmpty,
            parts[1].range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil
        else {
            return RuleViolation(
                message: "\(key) \"\(text)\" is not a reference to a Python class or function", hint: hint)
        }
        if parts[0].split(separator: "/").contains("..") {
            return RuleViolation(
                message: "\(key) \"\(text)\" points outside the project",
                hint: "the file must be inside the project, which is copied to /src")
        }
        return nil
    }

    /// Compiled once: a config may list thousands of packages.
    nonisolated(unsafe) private static let aptPackage = try? NSRegularExpression(
        pattern: #"^[a-z0-9][a-z0-9+.\-]*(:[a-z0-9\-]+)?(=[A-Za-z0-9.+~:\-]+)?$"#)

    private static func isAptPackageName(_ name: String) -> Bool {
        aptPackage?.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    /// One `system_packages` item: an apt package name, optionally `=version` or `:arch`, never shell syntax.
    static func checkAptPackage(_ name: String) -> RuleViolation? {
        if name.isEmpty { return RuleViolation(message: "a system package is empty", hint: "remove the empty item") }
        guard !isAptPackageName(name) else { return nil }
        let message = "system package \"\(name)\" is not an apt package name"
        if name.contains(where: \.isWhitespace) {
            return RuleViolation(message: message + ": it contains a space", hint: "list each package as its own item")
        }
        if let bad = name.first(where: { !($0.isLetter || $0.isNumber || "+.-=:~".contains($0)) }) {
            return RuleViolation(
                message: message + ": it contains \"\(bad)\"",
                hint:
                    "apt package names use only lowercase letters, digits and + - . (optionally name=version); shell commands belong in build.run"
            )
        }
        if name.hasPrefix("-") {
            return RuleViolation(
                message: message + ": it is an apt option",
                hint:
                    "system_packages lists package names only; apt options cannot be passed (to run apt-get with options, write the command in build.run)"
            )
        }
        let lowered = name.lowercased()
        if lowered != name, isAptPackageName(lowered) {
            return RuleViolation(message: message, hint: "apt package names are lowercase, e.g. \"\(lowered)\"")
        }
        return RuleViolation(
            message: message,
            hint:
                "apt package names start with a lowercase letter or digit and use only a-z 0-9 + - . (name=version, name:arch)"
        )
    }

    /// Environment names the cog runtime reserves (Cog's `pkg/config/env.go`); `*` ends a prefix.
    static let reservedEnvironmentNames = [
        "PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONUNBUFFERED", "R8_*", "REPLICATE_*",
        "LIBRARY_PATH", "CUDA_*", "NVIDIA_*", "NV_*", "PGET_*", "HF_ENDPOINT", "HF_HUB_ENABLE_HF_TRANSFER",
        "KUBERNETES_*",
    ]

    /// One top-level `environment` item: `NAME=value` with a name the runtime does not reserve.
    static func checkEnvironmentEntry(_ entry: String) -> Result<EnvVar, RuleViolation> {
        guard let equals = entry.firstIndex(of: "=") else {
            return .failure(
                RuleViolation(
                    message: "environment entry \"\(entry)\" is not in NAME=value form",
                    hint: "write it as \(entry)=value"))
        }
        let name = String(entry[..<equals])
        guard name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil else {
            return .failure(
                RuleViolation(
                    message: "environment entry \"\(entry)\" has an invalid name \"\(name)\"",
                    hint: "names start with a letter or _ and hold only letters, digits and _"))
        }
        for pattern in reservedEnvironmentNames {
            let reserved = pattern.hasSuffix("*") ? name.hasPrefix(pattern.dropLast()) : name == pattern
            if reserved {
                return .failure(
                    RuleViolation(
                        message:
                            "environment variable \"\(name)\" is reserved for the cog runtime and cannot be set in cog.yaml",
                        hint: "choose another name; reserved: \(reservedEnvironmentNames.joined(separator: ", "))"))
            }
        }
        return .success(EnvVar(name: name, value: String(entry[entry.index(after: equals)...])))
    }

    /// `sdk_version`: `prerelease` or a PEP 440 release of the cog SDK, 0.16.0 or newer.
    static func checkSDKVersion(_ text: String) -> RuleViolation? {
        if text == "prerelease" { return nil }
        guard let release = CogRuntime.releaseNumbers(text) else {
            return RuleViolation(
                message: "sdk_version \"\(text)\" is not a version",
                hint: "use a cog release such as \"\(CogRuntime.newest)\", or \"prerelease\"")
        }
        guard !release.lexicographicallyPrecedes([0, 16, 0]) else {
            return RuleViolation(
                message: "sdk_version \(text) is older than 0.16.0, the oldest cog SDK supported",
                hint: "use \"0.16.0\" or newer, or remove sdk_version to get cog \(CogRuntime.newest)")
        }
        return nil
    }
}
