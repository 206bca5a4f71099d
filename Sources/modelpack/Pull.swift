import ArgumentParser
import Foundation
import ModelPackCore

struct Pull: ReportingCommand, LimitedCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull a model from an OCI registry as a bundle or a verified directory.",
        discussion: """
            Every blob is checked against its digest before it is used and kept in the blob cache \
            (an interrupted pull continues where it stopped). -o writes a bundle with the pushed \
            bundle's digest, in the container its extension names; --unpack writes the model \
            directory, which appears only once every file matched. The signature referrer that \
            covers the bundle (the valid one, with --key or --trusted-keys) is written beside it, \
            as BUNDLE.sig or DIR/.modelpack/signature.sig, so verify --key works offline; -o also \
            writes the BOM and provenance referrers that describe it (BUNDLE.bom.json, \
            BUNDLE.provenance.json). With \
            --require-signature the artifact is refused, before anything is written, unless a \
            signature referrer by a trusted key covers it.
            """)

    @Argument(help: "What to pull: [oci://]HOST/REPOSITORY[:TAG|@DIGEST].")
    var reference: String

    @Option(name: .shortAndLong, help: "Write a bundle (.zip, .tar, .tar.gz or .tar.zst).")
    var output: String?

    @Option(help: "Unpack the model into this directory instead.")
    var unpack: String?

    @Flag(help: "Replace the --unpack directory if it exists.")
    var force = false

    @Flag(help: "Refuse unless a signature by a trusted key (--key, --trusted-keys) covers the artifact.")
    var requireSignature = false

    @OptionGroup var trust: TrustOptions

    @OptionGroup var trustPolicy: TrustPolicyOptions

    @OptionGroup var registry: RegistryFlags

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var report: DataOutputOptions

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        if (output == nil) == (unpack == nil) { throw ValidationError("give one of -o BUNDLE and --unpack DIR") }
        if requireSignature && !trust.given {
            throw ValidationError("--require-signature needs --key PUB or --trusted-keys DIR")
        }
    }

    func run() throws {
        let (context, line) = RegistryFlags.context(context, progress: "pull", progress, report: report)
        defer { line?.finish() }
        var options = PullOptions(reference: try ImageReference(parsing: reference), registry: registry.options)
        options.output = output
        options.unpackTo = unpack
        options.force = force
        options.trustedKeys = trust.keys
        options.requireSignature = requireSignature
        options.trust = try trustPolicy.load()
        let result = try Operations.pull(options, context: context)
        line?.finish()
        try report.emit(result)
    }
}
