import ArgumentParser
import ModelPackCore

struct Validate: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a model directory or a bundle: metadata, requirements, interface, artifacts, environment.",
        discussion: """
            The same checks as build, inspect, dockerfile and serve, with the same codes: prints \
            compiler-style diagnostics (path:line:col: error[MPxxx]: message). Exit 0 when there is no \
            error; with --strict, warnings fail too. Every code is listed in Docs/DIAGNOSTICS.md. A \
            bundle is read (and verified) without being unpacked.
            """)

    @Argument(help: "A model directory or a bundle.")
    var path: String

    @OptionGroup var report: OutputOptions

    @Flag(help: "Fail on warnings too.")
    var strict = false

    @Flag(
        help:
            "Also ask pip's resolver (a dry run, nothing installed) whether the requirements install for the model's Python on Linux x86_64 (MP701)."
    )
    var resolve = false

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    func run() throws {
        try report.emit(try Operations.validate(path, resolve: resolve, context: context), strict: strict)
    }
}
