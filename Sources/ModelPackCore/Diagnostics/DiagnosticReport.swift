import Foundation

/// The diagnostics of one `validate` run, with the text of the files they point into (for the
/// source line and caret of the text rendering).
package struct DiagnosticReport: Sendable, Equatable {
    /// What was validated, as the user named it (a directory or a bundle).
    package let target: String
    /// Whether `target` is a bundle (its files are shown as `BUNDLE!/file`).
    package let isBundle: Bool
    package let diagnostics: [Diagnostic]
    /// File (relative path) -> its lines, for the files diagnostics point into.
    package let sources: [String: [String]]

    package init(target: String, isBundle: Bool, diagnostics: [Diagnostic], sources: [String: [String]]) {
        self.target = target
        self.isBundle = isBundle
        self.diagnostics = diagnostics
        self.sources = sources
    }

    /// The same findings for a target named as the user named it.
    func retargeted(_ target: String) -> DiagnosticReport {
        DiagnosticReport(target: target, isBundle: isBundle, diagnostics: diagnostics, sources: sources)
    }

    package var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    package var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
    package var noteCount: Int { diagnostics.filter { $0.severity == .note }.count }

    /// Whether the run fails: any error, or any warning when `strict`.
    package func fails(strict: Bool) -> Bool { errorCount > 0 || (strict && warningCount > 0) }

    /// The path a user would open: `DIR/file` or `BUNDLE!/file`.
    package func displayPath(_ file: String) -> String {
        if target.isEmpty { return file }  // loose files, named by their own paths
        if isBundle { return target + "!/" + file }
        if target == "." { return file }
        return (target.hasSuffix("/") ? target : target + "/") + file
    }
}
