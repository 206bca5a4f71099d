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

    /// A report of findings in the chosen format.
    func render(_ report: DiagnosticReport, stream: Output.Stream) -> String {
        switch resolved {
        case .text: return report.text(colour: Output.wantsColour(stream))
        case .json: return report.json()
        case .sarif: return report.sarif(toolVersion: ModelPackVersion.current)
        }
    }

    /// Findings that refused the operation: text on stderr beside the error line, a document on
    /// stdout for json and sarif (so a CI step can read why).
    func renderRefusal(_ report: DiagnosticReport) {
        if resolved == .text {
            Output.error(render(report, stream: .standardError))
        } else {
            Output.result(render(report, stream: .standardOutput))
        }
    }

    /// The findings of an operation that went ahead: warnings on stderr in text, nothing extra in
    /// json and sarif (their document carries them).
    func renderWarnings(_ report: DiagnosticReport) {
        if resolved == .text && !report.diagnostics.isEmpty {
            Output.error(render(report, stream: .standardError))
        }
    }
}

/// A command whose refusals by the checks are rendered in its `--format` (by `ModelPack.main`).
protocol ReportingCommand {
    var report: OutputOptions { get }
}

/// `--strict` and `--allow-unsafe`, for the commands that judge a model and then act on it.
struct PolicyOptions: ParsableArguments {
    @Flag(help: "Refuse on warnings too, not only on errors.")
    var strict = false

    @Flag(help: "Go ahead with artifacts the audit finds dangerous (those findings become warnings).")
    var allowUnsafe = false

    var policy: ModelCheck.Policy { ModelCheck.Policy(allowUnsafe: allowUnsafe) }
}
