import ArgumentParser
import Foundation
import ModelPackCore

struct Verify: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every file of a bundle, or of an unpacked model, against its manifest.",
        discussion: """
            Exit 0 only if every file matches and nothing is missing, extra or unreadable; else 1. With \
            --key or --trusted-keys, the signature must also be valid, by a trusted key, over this \
            manifest: BUNDLE.sig beside a bundle, .modelpack/signature.sig in a directory that unpack \
            or pull --unpack wrote. A model directory that is neither is checked against its OMS \
            signature (model.sig in it, DIR.sig beside it, or --signature), which needs --key: \
            every file must be signed, none missing or changed. The JSON's `valid` is true exactly \
            when the exit status is 0.
            """)

    @Argument(
        help: "The bundle, a directory unpack or pull --unpack wrote, or a model directory with an OMS signature.")
    var bundle: String

    @OptionGroup var report: OutputOptions

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var trust: TrustOptions

    @Option(help: "The signature file, when it is not the usual one (BUNDLE.sig; a directory's model.sig or DIR.sig).")
    var signature: String?

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        // A directory as lstat sees it (a link to one is not: the core refuses it, naming it).
        let type = (try? FileManager.default.attributesOfItem(atPath: bundle))?[.type] as? FileAttributeType
        if !trust.given, type == .typeDirectory,
            !FileManager.default.fileExists(atPath: bundle + "/.modelpack/manifest.json")
        {
            throw ValidationError(
                "\(bundle) is a model directory, not an unpacked bundle: verify it against its OMS signature with --key or --trusted-keys"
            )
        }
    }

    func run() throws {
        try report.emit(
            try progress.tracking("verify", report: report, context: context) {
                try Operations.verify(bundle, trust: trust.keys, signature: signature, context: $0)
            })
    }
}
