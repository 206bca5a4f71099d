import ArgumentParser
import Foundation
import ModelPackCore

struct Inspect: LimitedCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Audit a bundle without unpacking it: files, digests, artifact formats, every check.",
        discussion: """
            Every file is verified against the manifest as it is read; every artifact is identified \
            by its content and statically scanned (pickles are walked opcode by opcode, never \
            loaded); then the same checks as validate run (metadata, requirements, interface, the \
            environment against what the pickles and interface.py import). Exit 1 on an error \
            finding; with --strict, also on warnings. --manifest-only reads just the manifest, in the \
            same time for any bundle size.
            """)

    @Argument(help: "The bundle, or a registry reference (oci://HOST/REPOSITORY:TAG).")
    var bundle: String

    @Flag(help: "Read only the manifest (no audit); text or json.")
    var manifestOnly = false

    @OptionGroup var report: OutputOptions

    @OptionGroup var progress: ProgressOptions

    @Flag(help: "Fail on warnings too (unknown imports, unpinned versions).")
    var strict = false

    @OptionGroup(title: "Registry") var registry: RegistryFlags

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        if manifestOnly && report.resolved == .sarif {
            throw ValidationError("--manifest-only has no findings to give as SARIF; use --format text or json")
        }
        if manifestOnly && strict {
            throw ValidationError("--strict judges the audit, which --manifest-only skips")
        }
    }

    func run() throws {
        if ImageReference.looksLikeReference(bundle, pathExists: FileManager.default.fileExists(atPath: bundle)) {
            let reference = try ImageReference(parsing: bundle)
            if manifestOnly {
                let remote = try Operations.inspectReference(reference, registry: registry.options, context: context)
                Output.result(report.resolved == .json ? RegistryReport.json(remote) : RegistryReport.text(remote))
                return
            }
            try render(
                try progress.tracking("inspect", report: report, context: context) {
                    try Operations.inspect(reference: reference, registry: registry.options, context: $0)
                })
            return
        }
        if manifestOnly {
            let summary = try Operations.inspectManifest(bundle, context: context)
            Output.result(report.resolved == .json ? InspectReport.json(summary) : InspectReport.text(summary))
            return
        }
        try render(
            try progress.tracking("inspect", report: report, context: context) {
                try Operations.inspect(bundle, context: $0)
            })
    }

    private func render(_ audit: BundleAudit) throws {
        switch report.resolved {
        case .text: Output.result(AuditReport.text(audit, colour: Output.wantsColour(.standardOutput)))
        case .json: Output.result(AuditReport.json(audit))
        case .sarif: Output.result(audit.report.sarif(toolVersion: ModelPackVersion.current))
        }
        if audit.report.fails(strict: strict) { throw ExitCode(ExitStatus.problems) }
    }
}
