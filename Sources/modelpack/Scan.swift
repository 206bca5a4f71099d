import ArgumentParser
import ModelPackCore

struct Scan: LimitedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Audit loose artifact files (before packing them), by content.",
        discussion:
            "The same audit as inspect's, on files outside a bundle. Exit 1 on an error finding; --strict also on warnings."
    )

    @Argument(help: "Artifact files.")
    var files: [String]

    @Option(help: "Output format: text, json (modelpack.scan/1) or sarif.")
    var format: DiagnosticFormat = .text

    @Flag(help: "Fail on warnings too (unknown imports).")
    var strict = false

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        let (audits, report) = try ArtifactAuditor.scanFiles(files)
        switch format {
        case .text:
            Output.result(AuditReport.table(audits) + "\n" + report.text(colour: Output.wantsColour(.standardOutput)))
        case .json: Output.result(AuditReport.scanJSON(audits, report))
        case .sarif: Output.result(report.sarif(toolVersion: ModelPack.configuration.version))
        }
        if report.fails(strict: strict) { throw ExitCode(ExitStatus.problems) }
    }
}
