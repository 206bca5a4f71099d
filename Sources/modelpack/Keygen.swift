import ArgumentParser
import ModelPackCore

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an Ed25519 signing key: KEY (private, mode 0600, never printed) and KEY.pub.")

    @Option(name: .shortAndLong, help: "The private key file to create (KEY.pub is written beside it).")
    var output: String

    @Option(help: "A comment stored in the public key (e.g. who owns it).")
    var comment: String = "modelpack"

    func run() throws {
        let id = try Operations.keygen(privatePath: output, comment: comment)
        Output.result("wrote \(output) (private, 0600) and \(output).pub; key id \(id)\n")
    }
}

struct Sign: LimitedCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a bundle: writes BUNDLE.sig (detached; the bundle and its digest do not change).")

    @Argument(help: "The bundle.")
    var bundle: String

    @Option(help: "The private key (from modelpack keygen).")
    var key: String

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    func run() throws {
        let id = try Operations.sign(bundle: bundle, keyPath: key, context: context)
        Output.result("signed \(bundle) with key \(id): \(BundleSignature.path(for: bundle))\n")
    }
}

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
