import ArgumentParser
import ModelPackCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every file of a bundle against its manifest.",
        discussion: "Exit 0 only if every file matches and nothing is missing, extra or unreadable; else 1.")

    @Argument(help: "The bundle.")
    var bundle: String

    @Flag(help: "Print JSON (schema modelpack.verify/1).")
    var json = false

    func run() throws {
        let report = try Verifier.verify(bundle)
        Output.result(json ? VerifyText.json(report) : VerifyText.text(report))
        if !report.isValid { throw ExitCode(ExitStatus.problems) }
    }
}
