import ArgumentParser
import ModelPackCore

struct Validate: LimitedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a model directory or a bundle: metadata, requirements, interface, artifacts.",
        discussion: """
            Prints compiler-style diagnostics (path:line:col: error[MPxxx]: message). Exit 0 when \
            there is no error; with --strict, warnings fail too. Every code is listed in \
            Docs/DIAGNOSTICS.md. A bundle is read (and verified) without being unpacked.
            """)

    @Argument(help: "A model directory or a bundle.")
    var path: String

    @OptionGroup var diagnostics: DiagnosticOptions

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        let report = try Validator.validate(path)
        Output.result(diagnostics.render(report, stream: .standardOutput))
        if report.fails(strict: diagnostics.strict) { throw ExitCode(ExitStatus.problems) }
    }
}

enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

struct DiagnosticOptions: ParsableArguments {
    @Option(help: "Output format: text, json (modelpack.diagnostics/1) or sarif (SARIF 2.1.0).")
    var format: DiagnosticFormat = .text

    @Flag(help: "Fail on warnings too.")
    var strict = false

    func render(_ report: DiagnosticReport, stream: Output.Stream) -> String {
        switch format {
        case .text: return report.text(colour: Output.wantsColour(stream))
        case .json: return report.json()
        case .sarif: return report.sarif(toolVersion: ModelPack.configuration.version)
        }
    }
}
