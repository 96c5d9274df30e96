import Foundation

/// The Debian bookworm Python image the test setup makes with debootstrap (`scripts/make-base-image.sh`),
/// as an OCI layout; made on first use and cached between runs.
public enum TestBaseImage {
    public static var layout: String {
        ProcessInfo.processInfo.environment["COG_TEST_BASE_LAYOUT"] ?? "/var/cache/cog-test/python-3.11-slim"
    }

    /// The layout's path, building it first when absent.
    public static func ensure() throws -> String {
        if FileManager.default.fileExists(atPath: "\(layout)/index.json") { return layout }
        let result = try runCommand(["\(packageRoot)/scripts/make-base-image.sh", layout])
        guard result.status == 0 else {
            throw TestSetupError("make-base-image.sh failed: \(result.stderr.suffix(2000))")
        }
        return layout
    }
}
