import Foundation

/// Python on the base, the user's requirements, and the cog runtime.
extension BuildPlanner {
    /// The uv release Cog uses (`standard_generator.go: UVVersion`).
    static let uvVersion = "0.9.26"
    /// SHA-256 of `uv-0.9.26-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`, read from PyPI's JSON API
    /// (https://pypi.org/pypi/uv/0.9.26/json) and checked against the downloaded file on 2026-11-26.
    static let uvWheelSHA256 = "b7e89798bd3df7dcc4b2b4ac4e2fc11d6b3ff4fe7d764aa3012d664c635e2922"
    /// Compiler flags for packages built from source: Cog's (`standard_generator.go: CFlags`) without its `-S`,
    /// which makes gcc write assembler text instead of objects and so breaks every C extension built from source
    /// (checked here: `gcc … -flto -S -c f.c -o f.o` writes assembly to f.o and `ld` rejects it).
    static let cflags = #"CFLAGS="-O3 -funroll-loops -fno-strict-aliasing -flto""#

    /// Cog's `installPythonCUDA` for bases without Python: tools from apt, uv (here from a PyPI index, as its
    /// wheel, since ghcr.io is out of reach), then `uv python install`, linked as python and python3.
    static func provisionPython(_ version: String, options: Options) -> [BuildStep] {
        let tools = aptInstall(
            ["wget", "curl", "xz-utils", "git", "ca-certificates", "unzip"], recommends: false, then: nil,
            summary: "install tools for Python provisioning")
        let mirror =
            (options.pythonInstallMirror.map { "UV_PYTHON_INSTALL_MIRROR=\(shellQuoted($0)) " } ?? "")
            + (options.pythonDownloadsJSON.map { "UV_PYTHON_DOWNLOADS_JSON_URL=\(shellQuoted($0)) " } ?? "")
        let install =
            "\(mirror)uv python install \(version) && ln -sf $(uv python find \(version)) /usr/bin/python3 && ln -sf $(uv python find \(version)) /usr/local/bin/python"
        return [
            .run(tools),
            .run(
                RunStep(
                    command: uvFromIndex(options.uvIndex), summary: "install uv \(uvVersion) from \(options.uvIndex)")),
            .env([EnvVar(name: "UV_SYSTEM_PYTHON", value: "true")]),
            .run(RunStep(command: install, summary: "install Python \(version) with uv")),
            .env([EnvVar(name: "UV_PYTHON", value: version), EnvVar(name: "PATH", value: "/usr/local/bin:$PATH")]),
        ]
    }

    /// Shell that finds uv's manylinux x86_64 wheel in a PyPI simple index page, downloads it, checks its
    /// SHA-256 and unpacks `uv` and `uvx` into /usr/local/bin. Relative links (devpi, Artifactory) are resolved
    /// against the index URL.
    static func uvFromIndex(_ index: String) -> String {
        let trimmed = index.hasSuffix("/") ? String(index.dropLast()) : index
        let wheel = "uv-\(uvVersion.replacingOccurrences(of: ".", with: "\\."))-py3-none-manylinux_2_17_x86_64"
        let data = "uv-\(uvVersion).data/scripts"
        return [
            "set -eu",
            "index=\(shellQuoted(trimmed))",
            #"href="$(curl -fsSL "$index/uv/" | grep -o 'href="[^"]*"#
                + wheel + #"[^"]*\.whl[^"]*"' | head -n 1 | sed -e 's/^href="//' -e 's/"$//' -e 's/#.*//')""#,
            #"case "$href" in "") echo "uv \#(uvVersion) for manylinux x86_64 is not listed at $index/uv/" >&2; exit 1 ;; http://*|https://*) url="$href" ;; /*) url="$(echo "$index" | sed -E 's#^(https?://[^/]+).*#\1#')$href" ;; *) url="$index/uv/$href" ;; esac"#,
            #"curl -fsSL -o /tmp/uv.whl "$url""#,
            "echo \"\(uvWheelSHA256)  /tmp/uv.whl\" | sha256sum -c -",
            "unzip -q -o -j -d /usr/local/bin /tmp/uv.whl \(data)/uv \(data)/uvx",
            "chmod 755 /usr/local/bin/uv /usr/local/bin/uvx",
            "rm -f /tmp/uv.whl",
        ].joined(separator: "; ")
    }

    /// How Python packages are installed: with the base's pip (python-slim), or with uv as Cog does, adding
    /// `--break-system-packages` where Python is "externally managed" (PEP 668: uv's own Pythons).
    enum Installer: Equatable {
        case pip
        case uv(breakSystemPackages: Bool)
    }

    /// The generated requirements.txt and its install, then the cog runtime (Cog's `pipInstalls` and `installCog`).
    static func pythonPackages(_ config: CompletedConfig, installer: Installer) -> [BuildStep] {
        var steps: [BuildStep] = []
        let pipCache = RunMount.cache(target: "/root/.cache/pip", id: "pip-cache")
        let pre = config.runtime.preRelease ? "--pre " : ""
        let breaking = installer == .uv(breakSystemPackages: true) ? "--break-system-packages " : ""
        if !config.localArtifacts.isEmpty { steps.append(.copyArtifacts(config.localArtifacts)) }
        if !config.requirements.isEmpty {
            let contents = Array((config.requirements.joined(separator: "\n") + "\n").utf8)
            steps.append(.copyFile(path: "/tmp/requirements.txt", contents: contents, mode: 0o644))
            let install =
                installer == .pip
                ? "python -m pip install --cache-dir /root/.cache/pip -r /tmp/requirements.txt"
                : "uv run pip install \(breaking)--cache-dir /root/.cache/pip -r /tmp/requirements.txt"
            steps.append(
                .run(
                    RunStep(
                        command: "\(cflags) \(install)", mounts: [pipCache], summary: "pip install -r requirements.txt",
                        splitsPackages: true)
                ))
        }
        if !config.localArtifacts.isEmpty {
            // As Cog: a local archive may have brought its own cog; the runtime chosen by cog.yaml comes next.
            let uninstall =
                installer == .pip ? "python -m pip uninstall -y cog coglet" : "uv pip uninstall \(breaking)cog coglet"
            steps.append(.run(RunStep(command: uninstall, summary: "uninstall cog and coglet before the runtime")))
        }
        let runtime = config.runtime.requirement
        if installer == .pip {
            steps.append(
                .run(
                    RunStep(
                        command: "\(cflags) python -m pip install --cache-dir /root/.cache/pip \(pre)\(runtime)",
                        mounts: [pipCache], summary: "install \(runtime)", splitsPackages: true)))
        } else {
            steps.append(
                .run(
                    RunStep(
                        command: "\(cflags) uv pip install \(breaking)\(pre)--no-cache \(runtime)",
                        mounts: [.cache(target: "/root/.cache/uv", id: "uv-cache")], summary: "install \(runtime)",
                        splitsPackages: true)))
        }
        return steps
    }

    /// `text` in single quotes for /bin/sh, unless it needs none.
    static func shellQuoted(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
