import Foundation

/// The diagnostics of one `validate` run, with the text of the files they point into (for the
/// source line and caret of the text rendering).
public struct DiagnosticReport: Sendable, Equatable {
    /// What was validated, as the user named it (a directory or a bundle).
    public let target: String
    /// Whether `target` is a bundle (its files are shown as `BUNDLE!/file`).
    public let isBundle: Bool
    public let diagnostics: [Diagnostic]
    /// File (relative path) -> its lines, for the files diagnostics point into.
    public let sources: [String: [String]]

    public init(target: String, isBundle: Bool, diagnostics: [Diagnostic], sources: [String: [String]]) {
        self.target = target
        self.isBundle = isBundle
        self.diagnostics = diagnostics
        self.sources = sources
    }

    /// The same findings for a target named as the user named it.
    func retargeted(_ target: String) -> DiagnosticReport {
        DiagnosticReport(target: target, isBundle: isBundle, diagnostics: diagnostics, sources: sources)
    }

    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
    public var noteCount: Int { diagnostics.filter { $0.severity == .note }.count }

    /// Whether the run fails: any error, or any warning when `strict`.
    public func fails(strict: Bool) -> Bool { errorCount > 0 || (strict && warningCount > 0) }

    /// The path a user would open: `DIR/file` or `BUNDLE!/file`.
    public func displayPath(_ file: String) -> String {
        if target.isEmpty { return file }  // loose files, named by their own paths
        if isBundle { return target + "!/" + file }
        if target == "." { return file }
        return (target.hasSuffix("/") ? target : target + "/") + file
    }
}

extension DiagnosticReport {
    /// `path:line:col: error[MP104]: message`, the source line with a caret, and the hint;
    /// ANSI colours only when `colour` is set (the CLI sets it on a TTY without NO_COLOR).
    public func text(colour: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var out = ""
        for d in diagnostics {
            var location = displayPath(d.file)
            if let line = d.line { location += ":\(line)" + (d.column.map { ":\($0)" } ?? "") }
            let label: String
            switch d.severity {
            case .error: label = paint("error[\(d.code.rawValue)]", "1;31")
            case .warning: label = paint("warning[\(d.code.rawValue)]", "1;33")
            case .note: label = paint("note[\(d.code.rawValue)]", "1;36")
            }
            out += paint(location + ":", "1") + " " + label + ": " + d.message + "\n"
            if let line = d.line, let lines = sources[d.file], line >= 1, line <= lines.count {
                let number = String(line)
                let gutter = String(repeating: " ", count: number.count)
                let source = lines[line - 1].replacingOccurrences(of: "\t", with: " ")
                out += " \(number) | \(source)\n"
                if let column = d.column {
                    let pad = String(repeating: " ", count: max(0, column - 1))
                    out += " \(gutter) | \(pad)" + paint("^", "1;32") + "\n"
                }
            }
            if let hint = d.hint { out += "  = hint: \(hint)\n" }
        }
        out += summaryLine + "\n"
        return out
    }

    public var summaryLine: String {
        func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        let subject = target.isEmpty ? "scan" : target
        if diagnostics.isEmpty { return "\(subject): no problems found" }
        return "\(subject): " + count(errorCount, "error") + ", " + count(warningCount, "warning")
            + (noteCount > 0 ? ", " + count(noteCount, "note") : "")
    }

    struct JSONDocument: Encodable {
        let schema = "modelpack.diagnostics/1"
        let target: String
        let errors: Int
        let warnings: Int
        let notes: Int
        let diagnostics: [Diagnostic]
    }

    /// `modelpack.diagnostics/1` (Docs/CLI.md).
    public func json() -> String {
        StableJSON.encode(
            JSONDocument(
                target: target, errors: errorCount, warnings: warningCount, notes: noteCount,
                diagnostics: diagnostics)) + "\n"
    }
}
