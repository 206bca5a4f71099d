import ArgumentParser
import ModelPackCore

struct BOM: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "bom",
        abstract: "Write the CycloneDX 1.6 ML-BOM of a bundle, a directory or a registry reference.",
        discussion: """
            The model is a machine-learning-model component (name, version, bundle digest, licence, \
            task, inputs and outputs) holding every file with its SHA-256 and the audit's verdict; \
            every requirement is a pkg:pypi library (unpinned ones without a version, marked \
            modelpack:pinned=false), then the serving runtime's own pins. The same model gives the \
            same bytes (no timestamp; the serial number is derived from the content). \
            Docs/SECURITY.md#ml-bom.
            """)

    @Argument(help: "A bundle, a model directory, or oci://HOST/REPOSITORY[:TAG|@DIGEST].")
    var model: String

    @Option(name: .shortAndLong, help: "Write the BOM to this file (through a temporary file) instead of stdout.")
    var output: String?

    @OptionGroup(title: "Registry") var registry: RegistryFlags

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(try Operations.bom(model, output: output, registry: registry.options, context: context))
    }
}
