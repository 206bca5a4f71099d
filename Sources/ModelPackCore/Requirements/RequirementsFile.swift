/// One requirement as found in a requirements file, with where it was written.
struct RequirementEntry: Sendable {
    let requirement: Requirement?
    /// The text of a bare path or URL line (pip accepts those without a name).
    let directReference: String?
    let file: String
    let line: Int
    let column: Int
    /// Line and column of the version specifiers (or of the name when there are none).
    let specifierLine: Int
    let specifierColumn: Int
    let hashes: [String]
}

/// Everything a requirements file (and the files it includes) says.
struct RequirementsFile: Sendable {
    var entries: [RequirementEntry] = []
    /// Every file read: requirements.txt and the files it includes (-r, -c), in reading order.
    var files: [String] = []
    var requireHashes = false
}

extension RequirementsFile {
    /// The requirements of an unpacked model: its requirements.txt and the files it includes
    /// (-r, -c), resolved inside it (the build context and serve's environment key read them).
    static func read(in model: String) -> RequirementsFile {
        var reader = RequirementsReader(
            readFile: { try? FileSystem.readWholeFile(model + "/" + $0, limit: Limits.maxTextBytes) },
            collector: DiagnosticCollector())
        reader.read(ModelDirectory.requirementsFile)
        return reader.result
    }
}

/// A pip requirements file reader: line continuations, `#` comments, pip options (each kept,
/// warned about or refused, see Docs/DIAGNOSTICS.md), per-requirement `--hash`, and `-r`/`-c`
/// includes that must stay inside the model directory. Requirement lines go through the PEP 508
/// parser; an error is reported at the exact line and column.
struct RequirementsReader {
    /// Reads a file of the model by its relative path; nil when it does not exist.
    let readFile: (String) -> [UInt8]?
    var collector: DiagnosticCollector
    var result = RequirementsFile()
    private var visiting: [String] = []

    init(readFile: @escaping (String) -> [UInt8]?, collector: DiagnosticCollector) {
        self.readFile = readFile
        self.collector = collector
    }

    /// A logical line: physical lines joined at trailing backslashes, with each character's origin.
    struct LogicalLine {
        var chars: [Character] = []
        var origins: [(line: Int, column: Int)] = []
        var firstLine = 0

        func position(_ offset: Int) -> (line: Int, column: Int) {
            if offset < origins.count { return origins[offset] }
            if let last = origins.last { return (last.line, last.column + 1 + (offset - origins.count)) }
            return (firstLine, 1)
        }
    }

    static func logicalLines(_ text: String) -> [LogicalLine] {
        var result: [LogicalLine] = []
        var current = LogicalLine()
        var open = false
        let physical = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, raw) in physical.enumerated() {
            var line = Array(raw)
            if line.last == "\r" { line.removeLast() }
            if !open { current = LogicalLine(firstLine: index + 1) }
            let continues = line.last == "\\"
            if continues { line.removeLast() }
            for (col, ch) in line.enumerated() {
                current.chars.append(ch)
                current.origins.append((index + 1, col + 1))
            }
            open = continues
            if !continues { result.append(current) }
        }
        if open { result.append(current) }
        return result
    }

    mutating func read(
        _ file: String, includedFrom: (file: String, line: Int, column: Int)? = nil, constraints: Bool = false
    ) {
        if visiting.contains(file) {
            report(
                .badInclude, "'\(file)' includes itself (\((visiting + [file]).joined(separator: " -> ")))",
                includedFrom)
            return
        }
        guard let bytes = readFile(file) else {
            if includedFrom != nil {
                report(.badInclude, "included file '\(file)' does not exist in the model directory", includedFrom)
            }
            return
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            collector.add(.unreadableFile, "\(file) is not UTF-8 text", file: file, at: nil)
            return
        }
        visiting.append(file)
        defer { visiting.removeLast() }
        if !result.files.contains(file) { result.files.append(file) }
        for logical in Self.logicalLines(text) {
            readLine(logical, file: file, constraints: constraints)
        }
    }

    mutating func report(
        _ code: DiagnosticCode, _ message: String, _ at: (file: String, line: Int, column: Int)?,
        hint: String? = nil, severity: Severity? = nil
    ) {
        let file = at?.file ?? ModelDirectory.requirementsFile
        collector.add(
            Diagnostic(code, message, file: file, line: at?.line, column: at?.column, hint: hint, severity: severity))
    }

    /// pip's comment rule: `#` at the start or after whitespace starts a comment.
    static func stripComment(_ chars: [Character]) -> [Character] {
        for (i, c) in chars.enumerated() where c == "#" && (i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t") {
            return Array(chars[..<i])
        }
        return chars
    }

    mutating func readLine(_ logical: LogicalLine, file: String, constraints: Bool) {
        let chars = Self.stripComment(logical.chars)
        guard let start = chars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return }
        var end = chars.count
        while end > start, chars[end - 1] == " " || chars[end - 1] == "\t" { end -= 1 }
        let position = { (offset: Int) -> (file: String, line: Int, column: Int) in
            let p = logical.position(offset)
            return (file, p.line, p.column)
        }
        if chars[start] == "-" {
            readOptions(Array(chars[start..<end]), offset: start, file: file, at: position)
            return
        }
        // The requirement ends where the first per-requirement option (" --hash=...") begins.
        var reqEnd = end
        var i = start
        while i < end - 1 {
            if (chars[i] == " " || chars[i] == "\t") && chars[i + 1] == "-" {
                reqEnd = i
                break
            }
            i += 1
        }
        var hashes: [String] = []
        if reqEnd < end {
            hashes = readRequirementOptions(Array(chars[reqEnd..<end]), offset: reqEnd, at: position)
        }
        var reqChars = Array(chars[start..<reqEnd])
        while reqChars.last == " " || reqChars.last == "\t" { reqChars.removeLast() }
        let text = String(reqChars)
        let origin = position(start)
        if Self.isDirectReference(text) {
            result.entries.append(
                RequirementEntry(
                    requirement: nil, directReference: text, file: file, line: origin.line,
                    column: origin.column, specifierLine: origin.line,
                    specifierColumn: origin.column, hashes: hashes))
            return
        }
        switch PEP508Parser.parse(text) {
        case .failure(let error):
            report(
                .requirementSyntax, "invalid requirement '\(text)': \(error.message)", position(start + error.offset),
                hint: "PEP 508: name[extras] (specifiers) ; marker, e.g. numpy==2.1.3")
        case .success(let requirement):
            if constraints { return }
            let spec = position(start + (requirement.specifierOffset ?? requirement.nameOffset))
            result.entries.append(
                RequirementEntry(
                    requirement: requirement, directReference: nil, file: file,
                    line: origin.line, column: origin.column, specifierLine: spec.line,
                    specifierColumn: spec.column, hashes: hashes))
        }
    }

    /// pip takes a line that names a path or URL (no `name @`) as a requirement too.
    static func isDirectReference(_ text: String) -> Bool {
        if text.contains(" @ ") || text.contains("@ ") { return false }
        let lower = text.lowercased()
        return text.hasPrefix(".") || text.hasPrefix("/") || text.hasPrefix("~") || lower.contains("://")
            || lower.hasSuffix(".whl") || lower.hasSuffix(".tar.gz") || lower.hasSuffix(".zip")
    }

    /// Splits `--opt=value`, `--opt value`, `-r value` into (option, value, offset of option).
    static func tokens(_ chars: [Character], offset: Int) -> [(text: String, offset: Int)] {
        var out: [(String, Int)] = []
        var i = 0
        while i < chars.count {
            while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
            let s = i
            while i < chars.count, chars[i] != " " && chars[i] != "\t" { i += 1 }
            if i > s { out.append((String(chars[s..<i]), offset + s)) }
        }
        return out
    }
}
