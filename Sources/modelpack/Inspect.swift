import ArgumentParser
import Foundation
import ModelPackCore

struct Inspect: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Audit a bundle without unpacking it: files, digests, artifact formats, every check.",
        discussion: """
            Every file is verified against the manifest as it is read; every artifact is identified \
            by its content and statically scanned (pickles are walked opcode by opcode, never \
            loaded); then the same checks as validate run (metadata, requirements, interface, the \
            environment against what the pickles and interface.py import). Exit 1 on an error \
            finding; with --strict, also on warnings. --manifest-only reads just the manifest, in the \
            same time for any bundle size. The signature (BUNDLE.sig, or the registry's signature \
            referrers) is shown, and checked with --key or --trusted-keys.
            """)

    @Argument(help: "The bundle, or a registry reference (oci://HOST/REPOSITORY:TAG).")
    var bundle: String

    @Flag(help: "Read only the manifest (no audit); text or json.")
    var manifestOnly = false

    @OptionGroup var report: OutputOptions

    @OptionGroup var progress: ProgressOptions

    @Flag(help: "Fail on warnings too (unknown imports, unpinned versions).")
    var strict = false

    @OptionGroup var trust: TrustOptions

    @OptionGroup(title: "Registry") var registry: RegistryFlags

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        if manifestOnly && strict {
            throw ValidationError("--strict judges the audit, which --manifest-only skips")
        }
        if manifestOnly && report.resolved == .sarif {
            throw ValidationError("inspect --manifest-only reports in text or json")
        }
    }

    func run() throws {
        if ImageReference.looksLikeReference(bundle, pathExists: FileManager.default.fileExists(atPath: bundle)) {
            let reference = try ImageReference(parsing: bundle)
            if manifestOnly {
                try report.emit(
                    try Operations.inspectReference(
                        reference, registry: registry.options, trust: trust.keys, context: context))
                return
            }
            try report.emit(
                try progress.tracking("inspect", report: report, context: context) {
                    try Operations.inspect(
                        reference: reference, registry: registry.options, trust: trust.keys, context: $0)
                }, strict: strict)
            return
        }
        if manifestOnly {
            guard !trust.given else {
                throw ValidationError("inspect --manifest-only of a file does not read BUNDLE.sig; use verify --key")
            }
            try report.emit(try Operations.inspectManifest(bundle, context: context))
            return
        }
        try report.emit(
            try progress.tracking("inspect", report: report, context: context) {
                try Operations.inspect(bundle, trust: trust.keys, context: $0)
            }, strict: strict)
    }
}
