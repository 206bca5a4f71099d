extension DiagnosticReport {
    /// `path:line:col: error[MP104]: message`, the source line with a caret, and the hint;
    /// ANSI colours only when `colour` is set (the CLI sets it on a TTY without NO_COLOR).
    package func text(colour: Bool) -> String {
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

    package var summaryLine: String {
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
    package func json() -> String {
        StableJSON.encode(
            JSONDocument(
                target: target, errors: errorCount, warnings: warningCount, notes: noteCount,
                diagnostics: diagnostics)) + "\n"
    }
}
