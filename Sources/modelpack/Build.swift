import ArgumentParser
import Foundation
import ModelPackCore

struct Build: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Check a model directory and pack it into a bundle.",
        discussion: """
            DIR goes through the same checks as `modelpack validate DIR`: errors (or warnings with \
            --strict) stop the build and nothing is written. The bundle is written to a temporary \
            file next to BUNDLE and renamed into place. Builds are deterministic; entry timestamps \
            come from SOURCE_DATE_EPOCH when it is set, else 1980-01-01. A BUNDLE.sig that signed \
            other content is removed (one that covers the rebuilt bundle stays). --provenance \
            writes an SLSA Provenance v1 statement of the build (the bundle's SHA-256, the \
            parameters, every source file's digest), signed with --provenance-key.
            """)

    @Argument(help: "The model directory.")
    var directory: String

    @Option(name: .shortAndLong, help: "The bundle to write (.zip, .tar, .tar.gz or .tar.zst).")
    var output: String

    @Option(help: "The container: zip, tar, tar.gz or tar.zst (default: from the output's extension).")
    var container: String?

    @Option(help: "Write an SLSA provenance statement (in-toto, JSON) of the build to this file.")
    var provenance: String?

    @Option(help: "Sign the provenance with this private key (a DSSE envelope).")
    var provenanceKey: String?

    @OptionGroup var report: OutputOptions

    @OptionGroup var progress: ProgressOptions
    @OptionGroup var policy: PolicyOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var bundleLimits: BundleLimitOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var yamlLimits: YAMLLimitOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var pickleLimits: PickleLimitOptions

    var limits: Limits {
        var limits = Limits()
        bundleLimits.apply(to: &limits)
        yamlLimits.apply(to: &limits)
        pickleLimits.apply(to: &limits)
        return limits
    }

    /// `--container` against `-o`'s extension: one of them must name the container, and they must agree.
    func validate() throws {
        do { _ = try ContainerFormat.resolve(requested: container, output: output) } catch ModelPackError.usage(
            let message)
        {
            throw ValidationError(message)
        }
        if provenanceKey != nil && provenance == nil {
            throw ValidationError("--provenance-key signs --provenance FILE")
        }
        if let provenance {
            let resolved = { (path: String) in
                URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            }
            if [resolved(output), resolved(output + ".sig")].contains(resolved(provenance)) {
                throw ValidationError("--provenance names the bundle or its signature")
            }
        }
    }

    func run() throws {
        let format = try ContainerFormat.resolve(requested: container, output: output)
        var options = BuildOptions(source: directory, output: output, format: format, strict: policy.strict)
        options.allowUnsafe = policy.allowUnsafe
        options.provenance = provenance
        options.provenanceKey = provenanceKey
        try report.emit(
            try progress.tracking("build", report: report, context: context) {
                try Operations.build(options, context: $0)
            })
    }
}
