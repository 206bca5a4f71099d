import ArgumentParser
import ModelPackCore

struct Unpack: LimitedCommand {
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

    @Flag(help: "Refuse unless BUNDLE.sig is a valid signature by a trusted key (--key, --trusted-keys).")
    var requireSignature = false

    @OptionGroup var trust: TrustOptions

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        if requireSignature {
            guard trust.given else {
                throw ValidationError("--require-signature needs --key PUB or --trusted-keys DIR")
            }
            switch try trust.check(bundle) {
            case .valid: break
            case .unsigned:
                throw ModelPackError.invalidBundle(
                    path: bundle, reason: "refused: not signed (no \(BundleSignature.path(for: bundle)))")
            case .invalid(let why):
                throw ModelPackError.invalidBundle(path: bundle, reason: "refused: bad signature: \(why)")
            }
        }
        let summary = try Unpacker.unpack(
            UnpackOptions(bundle: bundle, destination: output, force: force))
        Output.result(
            "unpacked \(summary.manifest.name) \(summary.manifest.version) "
                + "(\(summary.manifest.files.count) files, \(summary.digest)) into \(output)\n")
    }
}
