import Foundation

/// Cog's path on its own base images (`standard_generator.go: GenerateInitialSteps` with a cog-base image):
/// the base brings the preamble's environment, tini, Python, Cog's usual system packages and ldconfig.
extension BuildPlanner {
    /// CA certificate, the environment, the system packages the base lacks, uv, then requirements and the runtime
    /// installed with uv (`--break-system-packages` where the base's Python is uv's).
    static func cogBaseSteps(_ config: CompletedConfig, cogBase: CogBaseImage, options: Options) throws(ConfigError)
        -> [BuildStep]
    {
        var steps: [BuildStep] = []
        if let pem = try options.caCertificate.flatMap(CACertificate.resolve) { steps += CACertificate.steps(pem) }
        if !config.environment.isEmpty { steps.append(.env(config.environment)) }
        steps += systemPackages(config.config.build.systemPackages.filter { !CogBaseImage.systemPackages.contains($0) })
        steps.append(
            .run(
                RunStep(
                    command: uvWithPython(options.uvIndex),
                    summary: "install uv \(uvVersion) from \(options.uvIndex)")))
        steps.append(.env([EnvVar(name: "UV_SYSTEM_PYTHON", value: "true")]))
        if cogBase.pythonIsUVManaged {
            steps.append(
                .run(
                    RunStep(
                        command: "ln -sf /usr/bin/python3 /usr/local/bin/python", summary: "link python to python3")))
        }
        steps += pythonPackages(config, installer: .uv(breakSystemPackages: cogBase.pythonIsUVManaged))
        return steps
    }

    /// A `python3` program that does what `uvFromIndex` does with curl and unzip (which a base need not have):
    /// finds uv's manylinux x86_64 wheel in the PyPI simple index `index`, checks its SHA-256 and writes `uv` and
    /// `uvx` to /usr/local/bin. Cog copies them from `ghcr.io/astral-sh/uv` instead, which may be out of reach.
    static func uvWithPython(_ index: String) -> String {
        let trimmed = index.hasSuffix("/") ? String(index.dropLast()) : index
        let wheel = "uv-\(uvVersion.replacingOccurrences(of: ".", with: "\\."))-py3-none-manylinux_2_17_x86_64"
        let program = [
            "import hashlib, io, pathlib, re, sys, urllib.parse, urllib.request, zipfile",
            "page = sys.argv[1] + \"/uv/\"",
            "found = re.search(r\"href=\\\"([^\\\"]*\(wheel)[^\\\"]*\\.whl[^\\\"]*)\\\"\", urllib.request.urlopen(page).read().decode()) or sys.exit(\"uv \(uvVersion) for manylinux x86_64 is not listed at \" + page)",
            "data = urllib.request.urlopen(urllib.parse.urljoin(page, found.group(1).split(\"#\")[0])).read()",
            "hashlib.sha256(data).hexdigest() == \"\(uvWheelSHA256)\" or sys.exit(\"the uv wheel from \" + page + \" does not have the SHA-256 of uv \(uvVersion)\")",
            "wheel = zipfile.ZipFile(io.BytesIO(data))",
            "[pathlib.Path(\"/usr/local/bin\", name).write_bytes(wheel.read(\"uv-\(uvVersion).data/scripts/\" + name)) for name in (\"uv\", \"uvx\")]",
            "[pathlib.Path(\"/usr/local/bin\", name).chmod(0o755) for name in (\"uv\", \"uvx\")]",
        ].joined(separator: "; ")
        return "python3 -c \(shellQuoted(program)) \(shellQuoted(trimmed))"
    }
}
