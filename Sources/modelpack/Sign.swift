import ArgumentParser
import Foundation
import ModelPackCore

extension BundleSignature.SignatureFormat: ExpressibleByArgument {}

struct Sign: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a bundle (BUNDLE.sig) or a model directory (DIR.sig): detached, nothing signed changes.",
        discussion: """
            A bundle is signed in modelpack's format by default (a DSSE envelope over the bundle \
            digest; an Ed25519 or ECDSA key), or with --signature-format oms (or --format oms) in \
            the OpenSSF model \
            signing format (a Sigstore bundle over every file's digest; an ECDSA key, from keygen \
            --type ecdsa-p256 or openssl), which model_signing verify key accepts on the directory \
            unpack writes. A model directory is signed in the OMS format. Docs/SECURITY.md.
            """)

    @Argument(help: "The bundle, or a model directory.")
    var bundle: String

    @Option(help: "The private key (from modelpack keygen, or an ECDSA P-256 PEM key).")
    var key: String

    @Option(help: "The signature's format: modelpack or oms (a directory: oms).")
    var signatureFormat: BundleSignature.SignatureFormat?

    @Option(name: .shortAndLong, help: "The signature file (default: BUNDLE.sig, or DIR.sig beside the directory).")
    var output: String?

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    @OptionGroup var report: SignOutputOptions

    /// --signature-format, or the signature format --format names.
    var format: BundleSignature.SignatureFormat? { signatureFormat ?? report.signatureFormat }

    func validate() throws {
        if let named = report.signatureFormat, let signatureFormat, named != signatureFormat {
            throw ValidationError(
                "--format \(named.rawValue) contradicts --signature-format \(signatureFormat.rawValue)")
        }
        var isDirectory: ObjCBool = false
        if format == .modelpack, FileManager.default.fileExists(atPath: bundle, isDirectory: &isDirectory),
            isDirectory.boolValue, !FileManager.default.fileExists(atPath: bundle + "/.modelpack/manifest.json")
        {
            throw ValidationError(
                "\(bundle) is a directory: it is signed in the OMS format (modelpack's own signs a bundle)")
        }
    }

    func run() throws {
        try report.emit(
            try Operations.sign(
                SignOptions(target: bundle, keyPath: key, format: format, output: output), context: context))
    }
}
