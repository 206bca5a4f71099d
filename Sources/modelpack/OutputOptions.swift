import ArgumentParser
import ModelPackCore

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

/// The formats of a report that is not findings: SARIF does not apply, so `--format` does not offer it.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--format` and `--json` on a command whose report is findings (validate, build, inspect, scan,
/// verify, unpack, dockerfile): text, json or sarif. Docs/CLI.md lists each command's JSON schema.
struct OutputOptions: ReportOptions {
    @Option(help: "Output format: text, json or sarif (Docs/CLI.md gives each command's JSON schema).")
    var format: OutputFormat = .text

    @Flag(help: "The same as --format json.")
    var json = false

    func validate() throws {
        if json && format == .sarif {
            throw ValidationError("--json is --format json, which contradicts --format sarif")
        }
    }

    var resolved: OutputFormat { json ? .json : format }
}

/// `--format` and `--json` on a command whose report is data, not findings: text or json.
struct DataOutputOptions: ReportOptions {
    @Option(help: "Output format: text or json (Docs/CLI.md gives each command's JSON schema).")
    var format: DataFormat = .text

    @Flag(help: "The same as --format json.")
    var json = false

    var resolved: OutputFormat { json || format == .json ? .json : .text }
}

/// `--format` and `--json` on sign: the report's format (text or json), or, as the issue that
/// brought OMS spelt it, the signature's (`--format oms` is `--signature-format oms` with a text
/// report; `--format modelpack` likewise).
struct SignOutputOptions: ReportOptions {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, oms, modelpack
    }

    @Option(help: "Output format: text or json; oms or modelpack name the signature's format (--signature-format).")
    var format: Format = .text

    @Flag(help: "The same as --format json.")
    var json = false

    var resolved: OutputFormat { json || format == .json ? .json : .text }

    /// The signature format `--format` names, if it names one.
    var signatureFormat: BundleSignature.SignatureFormat? {
        BundleSignature.SignatureFormat(rawValue: format.rawValue)
    }
}

/// `--format` on serve and predict, whose stdout is the server's or the predictions': it says how
/// the checks' findings are printed on stderr before the model runs.
struct FindingsOutputOptions: ReportOptions {
    @Option(help: "How the checks' findings are printed on stderr: text, json or sarif.")
    var format: OutputFormat = .text

    var resolved: OutputFormat { format }
}

/// What every command's `--format` gives: the format, and the one way a command prints its result.
protocol ReportOptions: ParsableArguments {
    var resolved: OutputFormat { get }
}

extension ReportOptions {
    /// The one way a command prints its result: text on stdout with its notes (findings that did
    /// not stop it, warnings) on stderr, or the JSON or SARIF document on stdout. Exit 1 when the
    /// result says the command failed.
    func emit(_ result: some CommandReport, strict: Bool = false) throws {
        switch resolved {
        case .text:
            if let notes = result.textNotes(colour: Output.wantsColour(.standardError)) { Output.error(notes) }
            Output.result(result.text(colour: Output.wantsColour(.standardOutput)))
        case .json: Output.result(result.json())
        // Only the findings commands offer sarif, and their results are FindingsReports.
        case .sarif: Output.result(result.sarif() ?? result.json())
        }
        if result.fails(strict: strict) { throw ExitCode(ExitStatus.problems) }
    }

    /// Findings that refused the operation: text on stderr beside the error line, a document on
    /// stdout for json and sarif (so a CI step can read why).
    func emitRefusal(_ findings: DiagnosticReport) {
        switch resolved {
        case .text: Output.error(findings.text(colour: Output.wantsColour(.standardError)))
        case .json: Output.result(findings.json())
        case .sarif: Output.result(findings.sarif() ?? "")
        }
    }

    /// Findings of a command that goes ahead and then hands over (serve, predict, test): on
    /// stderr, in the chosen format, so that stdout stays the server's, the predictions' or the
    /// test's report. Nothing when there are none.
    func emitFindings(_ findings: DiagnosticReport) {
        guard !findings.diagnostics.isEmpty else { return }
        switch resolved {
        case .text: Output.error(findings.text(colour: Output.wantsColour(.standardError)))
        case .json: Output.error(findings.json())
        case .sarif: Output.error(findings.sarif() ?? "")
        }
    }
}

/// A command that reports in `--format`: its refusals by the checks are rendered in it (by
/// `ModelPack.main`).
protocol ReportingCommand {
    associatedtype Report: ReportOptions
    var report: Report { get }
}

/// `--strict` and `--allow-unsafe`, for the commands that judge a model and then act on it.
struct PolicyOptions: ParsableArguments {
    @Flag(help: "Refuse on warnings too, not only on errors.")
    var strict = false

    @Flag(help: "Go ahead with artifacts the audit finds dangerous (those findings become warnings).")
    var allowUnsafe = false

    var policy: ModelCheck.Policy { ModelCheck.Policy(allowUnsafe: allowUnsafe) }
}
