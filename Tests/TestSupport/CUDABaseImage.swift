import Foundation

/// The stand-in for NVIDIA's CUDA images (`scripts/make-cuda-base-image.sh`: Debian without Python, NVIDIA's
/// environment and labels, several layers) as an OCI layout whose image is named `cuda`; made on first use and
/// cached between runs.
public enum TestCUDABaseImage {
    public static var layout: String {
        ProcessInfo.processInfo.environment["COG_TEST_CUDA_LAYOUT"] ?? "/var/cache/cog-test/nvidia-cuda"
    }

    public static func ensure() throws -> String {
        try cached(layout, marker: "index.json", script: "make-cuda-base-image.sh")
    }
}

/// The stand-in python-build-standalone release uv installs on CUDA bases (`scripts/make-python-build.sh`): a
/// folder to serve as `UV_PYTHON_INSTALL_MIRROR`, with the `download-metadata.json` uv reads instead of its own.
public enum TestPythonBuild {
    public static var mirror: String {
        ProcessInfo.processInfo.environment["COG_TEST_PYTHON_BUILD"] ?? "/var/cache/cog-test/python-build"
    }

    public static func ensure() throws -> String {
        try cached(mirror, marker: "download-metadata.json", script: "make-python-build.sh")
    }
}

private func cached(_ path: String, marker: String, script: String) throws -> String {
    if FileManager.default.fileExists(atPath: "\(path)/\(marker)") { return path }
    let result = try runCommand(["\(packageRoot)/scripts/\(script)", path])
    guard result.status == 0 else { throw TestSetupError("\(script) failed: \(result.stderr.suffix(2000))") }
    return path
}
