import ArgumentParser
import ModelPackCore

struct Unpack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extract a bundle safely, verifying every file.",
        discussion: """
            Files are written into a fresh temporary directory next to DIR and checked against the \
            manifest; DIR appears only when all of them match. Links, devices, unsafe paths, \
            duplicates, unlisted or missing entries and oversized archives are refused.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Option(name: .shortAndLong, help: "The directory to create.")
    var output: String

    @Flag(help: "Replace DIR if it exists.")
    var force = false

    @OptionGroup var limits: LimitOptions

    func run() throws {
        let summary = try Unpacker.unpack(
            UnpackOptions(
                bundle: bundle, destination: output, force: force,
                limits: limits.unpackLimits))
        Output.result(
            "unpacked \(summary.manifest.name) \(summary.manifest.version) "
                + "(\(summary.manifest.files.count) files, \(summary.digest)) into \(output)\n")
    }
}

struct LimitOptions: ParsableArguments {
    @Option(help: "Refuse bundles with more files than this.")
    var maxEntries: Int = UnpackLimits().maxEntries

    @Option(help: "Refuse bundles larger than this many bytes uncompressed.")
    var maxTotalSize: Int64 = UnpackLimits().maxTotalSize

    @Option(help: "Refuse bundles over 1 GiB that expand more than this many times their archive size.")
    var maxRatio: Int64 = UnpackLimits().maxRatio

    var unpackLimits: UnpackLimits {
        var limits = UnpackLimits()
        limits.maxEntries = maxEntries
        limits.maxTotalSize = maxTotalSize
        limits.maxRatio = maxRatio
        return limits
    }
}
