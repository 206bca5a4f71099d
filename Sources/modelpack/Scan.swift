import ArgumentParser
import ModelPackCore

struct Scan: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Audit loose artifact files (before packing them), by content.",
        discussion:
            "The same artifact audit as inspect's, on files outside a bundle. Exit 1 on an error finding; --strict also on warnings."
    )

    @Argument(help: "Artifact files.")
    var files: [String]

    @OptionGroup var report: OutputOptions

    @Flag(help: "Fail on warnings too (unknown imports).")
    var strict = false

    @OptionGroup(title: "Limits on input", visibility: .hidden) var pickleLimits: PickleLimitOptions

    var limits: Limits {
        var limits = Limits()
        pickleLimits.apply(to: &limits)
        return limits
    }

    func run() throws {
        try report.emit(try Operations.scan(files, context: context), strict: strict)
    }
}
