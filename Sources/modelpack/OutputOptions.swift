import ArgumentParser
import ModelPackCore

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

/// `--format text|json|sarif` on every command that reports, with `--json` kept as an alias of
/// `--format json`. Docs/CLI.md lists each command's JSON schema.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output format: text, json or sarif (Docs/CLI.md gives each command's JSON schema).")
    var format: OutputFormat = .text

    @Flag(help: "The same as --format json.")
    var json = false

    func validate() throws {
        if json && format != .text && format != .json {
            throw ValidationError("--json is --format json, which contradicts --format \(format.rawValue)")
        }
    }

    var resolved: OutputFormat { json ? .json : format }

    /// The one way a command prints its result: text on stdout with its notes (findings that did
    /// not stop it, warnings) on stderr, or the JSON or SARIF document on stdout. Exit 1 when the
    /// result says the command failed.
    func emit(_ result: some CommandReport, strict: Bool = false) throws {
        switch resolved {
        case .text:
            if let notes = result.textNotes(colour: Output.wantsColour(.standardError)) { Output.error(notes) }
            Output.result(result.text(colour: Output.wantsColour(.standardOutput)))
        case .json: Output.result(result.json())
        case .sarif: Output.result(result.sarif() ?? "")  // refused before the run where there is none
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

    /// Findings of a command that goes ahead and then hands over (serve, predict): on stderr, in
    /// the chosen format, so that stdout stays the server's or the predictions'.
    func emitFindings(_ findings: DiagnosticReport) {
        guard !findings.diagnostics.isEmpty || resolved != .text else { return }
        switch resolved {
        case .text: Output.error(findings.text(colour: Output.wantsColour(.standardError)))
        case .json: Output.error(findings.json())
        case .sarif: Output.error(findings.sarif() ?? "")
        }
    }
}

/// A command that reports in `--format`: its refusals by the checks are rendered in it (by
/// `ModelPack.main`), and `--format sarif` is refused, in one place, by a command whose report is
/// not findings.
protocol ReportingCommand {
    var report: OutputOptions { get }
    /// Whether its report is findings (SARIF applies).
    var reportsFindings: Bool { get }
    /// How its name reads in messages (`cache list`).
    var commandPath: String { get }
}

extension ReportingCommand where Self: ParsableCommand {
    var commandPath: String { Self.configuration.commandName ?? "modelpack" }
}

/// `--strict` and `--allow-unsafe`, for the commands that judge a model and then act on it.
struct PolicyOptions: ParsableArguments {
    @Flag(help: "Refuse on warnings too, not only on errors.")
    var strict = false

    @Flag(help: "Go ahead with artifacts the audit finds dangerous (those findings become warnings).")
    var allowUnsafe = false

    var policy: ModelCheck.Policy { ModelCheck.Policy(allowUnsafe: allowUnsafe) }
}
