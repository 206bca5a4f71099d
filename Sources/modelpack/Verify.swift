import ArgumentParser
import ModelPackCore

struct Verify: LimitedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every file of a bundle against its manifest.",
        discussion: """
            Exit 0 only if every file matches and nothing is missing, extra or unreadable; else 1. With \
            --key or --trusted-keys, BUNDLE.sig must also be a valid signature by a trusted key over \
            this bundle's manifest.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Flag(help: "Print JSON (schema modelpack.verify/2).")
    var json = false

    @OptionGroup var trust: TrustOptions

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        let signature = trust.given ? try trust.check(bundle) : nil
        let report = try Verifier.verify(bundle)
        Output.result(
            json ? VerifyText.json(report, signature: signature) : VerifyText.text(report, signature: signature))
        let signatureOK: Bool
        if case .valid? = signature { signatureOK = true } else { signatureOK = signature == nil }
        if !report.isValid || !signatureOK { throw ExitCode(ExitStatus.problems) }
    }
}
