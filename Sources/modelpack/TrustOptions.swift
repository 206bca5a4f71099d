import ArgumentParser
import Foundation
import ModelPackCore

/// The keys a command trusts.
struct TrustOptions: ParsableArguments {
    @Option(help: "A trusted public key, or a PEM file of CA certificates (OMS certificate signatures) (repeatable).")
    var key: [String] = []

    @Option(help: "A directory of trusted public keys and CA certificates (*.pub, *.pem).")
    var trustedKeys: String?

    var given: Bool { !key.isEmpty || trustedKeys != nil }

    /// The keys given, or nil when none was.
    var keys: TrustedKeys? { given ? TrustedKeys(files: key, directory: trustedKeys) : nil }
}

/// The trust policy a command enforces: `--policy FILE`, else MODELPACK_POLICY.
struct TrustPolicyOptions: ParsableArguments {
    @Option(
        name: .customLong("policy"),
        help:
            "A trust policy (YAML): the keys trusted per registry, and whether a signature, a clean audit, a BOM and a provenance are required (else MODELPACK_POLICY)."
    )
    var file: String?

    /// The policy, read and checked; nil when none is given.
    func load() throws -> TrustPolicy? {
        let environment = ProcessInfo.processInfo.environment["MODELPACK_POLICY"]
        guard let path = file ?? (environment?.isEmpty == false ? environment : nil) else { return nil }
        return try TrustPolicy.load(path)
    }
}
