/// How serious a diagnostic is. Errors fail `validate` and stop `build`; warnings fail only with
/// `--strict`; notes never fail.
package enum Severity: String, Codable, Sendable, Comparable {
    case error, warning, note

    private var rank: Int { [.error: 0, .warning: 1, .note: 2][self]! }
    package static func < (l: Self, r: Self) -> Bool { l.rank < r.rank }
}

/// One finding, at a 1-based line and column of a file of the model (path relative to the model
/// directory). `line`/`column` are nil for findings about a whole file.
package struct Diagnostic: Codable, Equatable, Sendable {
    package let severity: Severity
    package let code: DiagnosticCode
    package let message: String
    package let file: String
    package let line: Int?
    package let column: Int?
    package let hint: String?

    package init(
        _ code: DiagnosticCode, _ message: String, file: String, line: Int? = nil, column: Int? = nil,
        hint: String? = nil, severity: Severity? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint
        self.severity = severity ?? code.severity
    }

    enum CodingKeys: String, CodingKey { case severity, code, message, file, line, column, hint }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(severity, forKey: .severity)
        try c.encode(code, forKey: .code)
        try c.encode(message, forKey: .message)
        try c.encode(file, forKey: .file)
        try c.encode(line, forKey: .line)
        try c.encode(column, forKey: .column)
        try c.encode(hint, forKey: .hint)
    }
}

/// Collects diagnostics in the order they are found; rendered sorted by file and position.
package struct DiagnosticCollector: Sendable {
    package private(set) var diagnostics: [Diagnostic] = []

    package init() {}

    package mutating func add(_ d: Diagnostic) { diagnostics.append(d) }

    package mutating func add(
        _ code: DiagnosticCode, _ message: String, file: String, at mark: SourceMark?,
        hint: String? = nil, severity: Severity? = nil
    ) {
        add(
            Diagnostic(
                code, message, file: file, line: mark?.line, column: mark?.column, hint: hint, severity: severity))
    }

    package var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let l = a.element, r = b.element
            if l.file != r.file { return l.file < r.file }
            if (l.line ?? 0) != (r.line ?? 0) { return (l.line ?? 0) < (r.line ?? 0) }
            if (l.column ?? 0) != (r.column ?? 0) { return (l.column ?? 0) < (r.column ?? 0) }
            return a.offset < b.offset
        }.map(\.element)
    }
}
