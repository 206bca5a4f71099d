import ArgumentParser
import Foundation
import ModelPackCore

/// The keys a command trusts.
struct TrustOptions: ParsableArguments {
    @Option(help: "A trusted public key (repeatable).")
    var key: [String] = []

    @Option(help: "A directory of trusted public keys (*.pub).")
    var trustedKeys: String?

    var given: Bool { !key.isEmpty || trustedKeys != nil }

    /// The keys given, or nil when none was.
    var keys: TrustedKeys? { given ? TrustedKeys(files: key, directory: trustedKeys) : nil }
}
