// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "modelpack",
    platforms: [.macOS(.v13)],
    // One product: ModelPackCore is the CLI's core, shared with its tests and the fuzz driver
    // through `package` access (SE-0386), not a library for other packages.
    products: [
        .executable(name: "modelpack", targets: ["modelpack"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // X.509 chains for OMS signatures made with a certificate (`model_signing sign certificate`).
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"]), .brew(["libarchive"])]
        ),
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // HTTP for the registry commands: the libcurl FoundationNetworking is built on, used directly
        // and loaded (dlopen) by the first request, so no pkgConfig: its -lcurl would link it into
        // every command's start. The headers come from libcurl4-openssl-dev.
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        .systemLibrary(name: "CPlatform"),
        .target(
            name: "ModelPackCore",
            dependencies: [
                "CArchive",
                "CYAML",
                "CZlib",
                "CCurl",
                "CPlatform",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            // The serving runtime's Python source; Serving/Generated/ServingRuntime+Files.swift embeds it.
            exclude: ["Serving/runtime"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "modelpack",
            dependencies: [
                "ModelPackCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ModelPackCoreTests",
            // CZlib: zlib's own crc32_z is the oracle of CRC32's folded one (HashingTests).
            dependencies: ["ModelPackCore", "modelpack", "CZlib"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer driver exists only in fuzzing builds (Tests/Fuzz/fuzz.sh sets MODELPACK_FUZZ=1 and
// -sanitize=fuzzer, which supplies main); a normal build cannot link it.
if Context.environment["MODELPACK_FUZZ"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "modelpack-fuzz",
            dependencies: ["ModelPackCore"],
            path: "Tests/Fuzz",
            exclude: ["fuzz.sh", "seeds.py"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ))
}
