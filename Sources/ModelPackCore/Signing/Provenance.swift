import Foundation

/// `build --provenance FILE`: an in-toto Statement v1 with an SLSA Provenance v1 predicate
/// (https://slsa.dev/provenance/v1) saying how a bundle was built: the bundle file's SHA-256 as
/// the subject, the build's parameters, every source file's digest as a resolved dependency,
/// modelpack's version as the builder, the bundle digest (the manifest's) as a byproduct. With a
/// key it is written as a DSSE envelope signed by it (modelpack's Ed25519 or ECDSA keys).
enum Provenance {
    static let predicateType = "https://slsa.dev/provenance/v1"
    static let buildType = "https://modelpack.dev/build/v1"
    static let builderID = "https://modelpack.dev/builders/cli"

    struct Build {
        let source: String
        let output: String
        let container: String
        let timestamp: Int64
        let strict: Bool
        let allowUnsafe: Bool
        let manifest: Manifest
        let started: Date
        let finished: Date
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// The statement, as JSON bytes.
    static func statement(_ build: Build) throws -> Data {
        let bundleDigest = try OMSDirectory.hash(build.output)
        let document: [String: Any] = [
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [["name": FileSystem.lastComponent(of: build.output), "digest": ["sha256": bundleDigest]]],
            "predicateType": predicateType,
            "predicate": [
                "buildDefinition": [
                    "buildType": buildType,
                    "externalParameters": [
                        "source": build.source, "output": build.output, "container": build.container,
                        "sourceDateEpoch": build.timestamp, "strict": build.strict, "allowUnsafe": build.allowUnsafe,
                    ],
                    "resolvedDependencies": build.manifest.files.map {
                        ["name": $0.path, "digest": ["sha256": $0.sha256]] as [String: Any]
                    },
                ],
                "runDetails": [
                    "builder": ["id": builderID, "version": ["modelpack": ModelPackVersion.current]],
                    "metadata": ["startedOn": rfc3339(build.started), "finishedOn": rfc3339(build.finished)],
                    "byproducts": [
                        [
                            "name": Manifest.entryPath,
                            "digest": ["sha256": String(build.manifest.digest.dropFirst("sha256:".count))],
                        ]
                    ],
                ],
            ],
        ]
        return try JSONSerialization.data(
            withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }

    /// Writes the statement (or, with a key, its DSSE envelope) to `path` through a temporary file.
    static func write(_ build: Build, to path: String, key: PrivateKey?) throws {
        let body = try statement(build)
        try FileSystem.writeAtomically(
            try key.map { try BundleSignature.envelope(body, key: $0) } ?? Array(body) + [0x0a], to: path)
    }
}
