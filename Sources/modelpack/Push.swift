import ArgumentParser
import Foundation
import ModelPackCore

struct Push: ReportingCommand, ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a bundle to an OCI registry as a CNCF ModelPack artifact.",
        discussion: """
            Every file becomes an uncompressed layer whose digest is the file's SHA-256, so a file \
            the registry already has (an unchanged weight in a new version) is never sent again. \
            The bundle is verified as it streams; the manifest is put last. BUNDLE.sig, \
            BUNDLE.bom.json and BUNDLE.provenance.json, when present, are pushed as referrers of \
            the manifest (one that describes other content is refused before anything is sent). REF is [oci://]HOST/REPOSITORY[:TAG] \
            (Docs/REGISTRY.md); credentials come from Docker's config.json (modelpack login).
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Argument(help: "Where to push: [oci://]HOST/REPOSITORY[:TAG].")
    var reference: String

    @Option(help: "Mount blobs from this repository of the same registry instead of uploading them.")
    var from: String?

    @Option(help: "Upload blobs larger than this in chunks of this size (e.g. 8MiB; at least 64KiB).")
    var chunkSize = "8MiB"

    @Flag(
        help:
            "Send every blob in one PUT, for a registry that breaks chunked uploads (ghcr.io, Google's and ECR get it anyway)."
    )
    var monolithic = false

    @OptionGroup var registry: RegistryFlags

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var report: DataOutputOptions

    func validate() throws {
        guard let bytes = ByteCount.parse(chunkSize), bytes >= 64 << 10, bytes <= 1 << 30 else {
            throw ValidationError("--chunk-size '\(chunkSize)' must be a size from 64KiB to 1GiB")
        }
        if let from { _ = try ImageReference(parsing: "localhost/" + from) }
    }

    func run() throws {
        var options = registry.options
        let (context, line) = RegistryFlags.context(context, progress: "push", progress, report: report)
        defer { line?.finish() }
        options.mountFrom = from
        options.chunkSize = Int(ByteCount.parse(chunkSize) ?? 8 << 20)
        options.monolithic = monolithic
        let result = try Operations.push(
            PushOptions(bundle: bundle, reference: try ImageReference(parsing: reference), registry: options),
            context: context)
        line?.finish()
        try report.emit(result)
    }
}
