import ArgumentParser
import ModelPackCore

struct Verify: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every file of a bundle against its manifest.",
        discussion: """
            Exit 0 only if every file matches and nothing is missing, extra or unreadable; else 1. With \
            --key or --trusted-keys, BUNDLE.sig must also be a valid signature by a trusted key over \
            this bundle's manifest. The JSON's `valid` is true exactly when the exit status is 0.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @OptionGroup var report: OutputOptions

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var trust: TrustOptions

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    func run() throws {
        try report.emit(
            try progress.tracking("verify", report: report, context: context) {
                try Operations.verify(bundle, trust: trust.keys, context: $0)
            })
    }
}
