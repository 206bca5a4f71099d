import ArgumentParser
import ModelPackCore

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a bundle's identity and files without unpacking it.",
        discussion: "Reads only the manifest (the first entry), so it takes the same time for any bundle size.")

    @Argument(help: "The bundle.")
    var bundle: String

    @Flag(help: "Print JSON (schema modelpack.inspect/1).")
    var json = false

    func run() throws {
        let summary = try BundleReader.inspect(bundle)
        Output.result(json ? InspectReport.json(summary) : InspectReport.text(summary))
    }
}
