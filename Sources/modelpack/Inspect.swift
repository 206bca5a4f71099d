import ArgumentParser
import ModelPackCore

struct Inspect: LimitedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Audit a bundle without unpacking it: files, digests, artifact formats, a safety scan.",
        discussion: """
            Every artifact is identified by its content and statically scanned (pickles are walked \
            opcode by opcode, never loaded); the environment in requirements.txt is checked against \
            what the pickles need. Exit 1 on an error finding (a dangerous import, a version \
            mismatch, ...); with --strict, also on warnings (unknown imports). --manifest-only reads \
            just the manifest, in the same time for any bundle size.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Flag(help: "Read only the manifest (no audit).")
    var manifestOnly = false

    @Flag(help: "Print JSON (modelpack.inspect/2; modelpack.inspect/1 with --manifest-only).")
    var json = false

    @Option(help: "Output format: text, json or sarif.")
    var format: DiagnosticFormat = .text

    @Flag(help: "Fail on warnings too (unknown imports, unpinned versions).")
    var strict = false

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        if manifestOnly {
            let summary = try BundleReader.inspect(bundle)
            Output.result(json || format == .json ? InspectReport.json(summary) : InspectReport.text(summary))
            return
        }
        let audit = try BundleAuditor.audit(bundle)
        switch json ? .json : format {
        case .text: Output.result(AuditReport.text(audit, colour: Output.wantsColour(.standardOutput)))
        case .json: Output.result(AuditReport.json(audit))
        case .sarif: Output.result(audit.report.sarif(toolVersion: ModelPack.configuration.version))
        }
        if audit.report.fails(strict: strict) { throw ExitCode(ExitStatus.problems) }
    }
}
