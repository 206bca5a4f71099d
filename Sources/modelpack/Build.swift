import ArgumentParser
import ModelPackCore

struct Build: LimitedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pack a model directory into a bundle.",
        discussion: """
            DIR is validated first (as by `modelpack validate`): errors, or warnings with --strict, stop the \
            build. The bundle is written to a \
            temporary file next to BUNDLE and renamed into place: a failed or interrupted build leaves \
            nothing at BUNDLE. Builds are deterministic; entry timestamps come from SOURCE_DATE_EPOCH \
            when it is set, else 1980-01-01.
            """)

    @Argument(help: "The model directory.")
    var directory: String

    @Option(name: .shortAndLong, help: "The bundle to write (.zip, .tar, .tar.gz or .tar.zst).")
    var output: String

    @Option(help: "The container: zip, tar, tar.gz or tar.zst (default: from the output's extension).")
    var format: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Refuse to build when validation finds warnings, not only errors.")
    var strict = false

    @Flag(help: "Pack artifacts the audit finds dangerous; the manifest records them (allowedUnsafe).")
    var allowUnsafe = false

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        let container = try ContainerFormat.resolve(requested: format, output: output)
        let result: BuildResult
        do {
            var options = BuildOptions(source: directory, output: output, format: container, strict: strict)
            options.allowUnsafe = allowUnsafe
            result = try BundleBuilder.build(options)
        } catch ModelPackError.validationFailed(let report) {
            Output.error(report.text(colour: Output.wantsColour(.standardError)))
            throw ModelPackError.validationFailed(report)
        }
        if !result.diagnostics.diagnostics.isEmpty {
            Output.error(result.diagnostics.text(colour: Output.wantsColour(.standardError)))
        }
        let summary = try BundleReader.inspect(output)
        if json {
            Output.result(InspectReport.json(summary))
        } else {
            Output.result(
                "built \(output): \(result.manifest.name) \(result.manifest.version), "
                    + "\(result.manifest.files.count) files, \(container.rawValue), \(summary.digest)\n")
        }
    }
}
