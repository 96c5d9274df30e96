// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "cog",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cog", targets: ["cog"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Layers", targets: ["Layers"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "CogEngine", targets: ["CogEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // MARK: C libraries, each behind its own small target
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Linux syscalls Glibc does not wrap (openat2) and the single-threaded namespace setup.
        .target(name: "CSupport"),

        // MARK: modules along the road cog.yaml → plan → layers → image → registry
        .target(name: "OCI", dependencies: ["CCrypto"]),
        .target(name: "Layers", dependencies: ["OCI", "CArchive", "CZlib", "CDeflate", "CSupport"]),
        .target(name: "Registry", dependencies: ["OCI", "CCurl"]),
        // The engine (cog.yaml, plan, build session, predict) and the commands share Sources/cog, as two targets in
        // disjoint folders: the design card's layout stays, and the engine never sees ArgumentParser.
        .target(
            name: "CogEngine",
            dependencies: ["OCI", "Layers", "Registry", "CYAML"],
            path: "Sources/cog/Engine",
            resources: [.copy("Data")]
        ),
        .executableTarget(
            name: "cog",
            dependencies: [
                "CogEngine", "OCI", "Layers", "Registry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/cog/CLI"
        ),

        // MARK: tests
        .target(name: "TestSupport", dependencies: ["OCI", "CSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "OCITests", dependencies: ["OCI", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "OCI", "TestSupport", "CSupport", "CZlib"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "OCI", "Layers", "TestSupport"]),
        .testTarget(name: "CogEngineTests", dependencies: ["CogEngine", "OCI", "Layers", "Registry", "TestSupport"]),
        .testTarget(name: "cogTests", dependencies: ["cog", "CogEngine", "OCI", "Layers", "Registry", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
