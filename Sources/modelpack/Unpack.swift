import ArgumentParser
import ModelPackCore

struct Unpack: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Extract a bundle safely, verifying every file.",
        discussion: """
            Files are written into a fresh temporary directory next to DIR and checked against the \
            manifest; DIR appears only when all of them match. Links, devices, unsafe paths, \
            duplicates, unlisted or missing entries and oversized archives are refused.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Option(name: .shortAndLong, help: "The directory to create.")
    var output: String

    @Flag(help: "Replace DIR if it exists.")
    var force = false

    @Flag(help: "Refuse unless BUNDLE.sig is a valid signature by a trusted key (--key, --trusted-keys).")
    var requireSignature = false

    @OptionGroup var trust: TrustOptions

    @OptionGroup var trustPolicy: TrustPolicyOptions

    @OptionGroup var report: OutputOptions

    @OptionGroup var progress: ProgressOptions

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        if requireSignature && !trust.given {
            throw ValidationError("--require-signature needs --key PUB or --trusted-keys DIR")
        }
    }

    func run() throws {
        var options = UnpackOptions(bundle: bundle, destination: output, force: force)
        options.trust = try trustPolicy.load()
        try report.emit(
            try progress.tracking("unpack", report: report, context: context) {
                try Operations.unpack(
                    options,
                    requiringSignatureFrom: requireSignature ? trust.keys : nil, context: $0)
            })
    }
}
