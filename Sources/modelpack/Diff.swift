import ArgumentParser
import ModelPackCore

struct Diff: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed between two models (bundles, directories or registry references).",
        discussion: """
            Each side goes through the same checks as validate; then files are compared by \
            digest, metadata.yaml field by field, requirements by distribution (a pin moved up or \
            down), artifact audit verdicts, and the inputs and outputs, where a change that callers \
            of the old model can break on is called INCOMPATIBLE. Exit 0 when they are the same, \
            1 when they differ (or an input is missing or cannot be read).
            """)

    @Argument(help: "The model as it was: a bundle, a model directory or oci://HOST/REPOSITORY:TAG.")
    var before: String

    @Argument(help: "The model as it is.")
    var after: String

    @OptionGroup var report: DataOutputOptions

    @OptionGroup(title: "Registry") var registry: RegistryFlags

    func run() throws {
        try report.emit(try Operations.diff(before, after, registry: registry.options, context: context))
    }
}
