/// A hand-written PEP 508 parser following the grammar of `packaging` (the reference
/// implementation): name, extras, version specifiers (bare or in parentheses), `@ url`, and
/// environment markers with `and`/`or`/parentheses. Errors carry the offset where parsing failed.
package enum PEP508Parser {
    package static func parse(_ text: String) -> Result<Requirement, RequirementSyntaxError> {
        var scanner = Scanner(text)
        do {
            return .success(try scanner.requirement())
        } catch let error as RequirementSyntaxError {
            return .failure(error)
        } catch {
            return .failure(RequirementSyntaxError(offset: 0, message: "\(error)"))
        }
    }

    static let markerVariables: Set<String> = [
        "python_version", "python_full_version", "os_name", "os.name", "sys_platform", "sys.platform",
        "platform_release", "platform_system", "platform_version", "platform.version", "platform_machine",
        "platform.machine", "platform_python_implementation", "platform.python_implementation",
        "python_implementation", "implementation_name", "implementation_version", "extra", "extras",
        "dependency_groups",
    ]

    /// The legacy spellings packaging accepts, and the names it prints them as.
    static let markerAliases: [String: String] = [
        "os.name": "os_name", "sys.platform": "sys_platform", "platform.version": "platform_version",
        "platform.machine": "platform_machine", "platform.python_implementation": "platform_python_implementation",
        "python_implementation": "platform_python_implementation",
    ]
}

private struct Scanner {
    let chars: [Character]
    var i = 0

    init(_ text: String) { chars = Array(text) }

    var atEnd: Bool { i >= chars.count }
    var peek: Character? { atEnd ? nil : chars[i] }

    func fail(_ message: String, at offset: Int? = nil) -> RequirementSyntaxError {
        RequirementSyntaxError(offset: offset ?? i, message: message)
    }

    mutating func skipSpace() {
        while let c = peek, c == " " || c == "\t" { i += 1 }
    }

    mutating func consume(_ literal: String) -> Bool {
        let l = Array(literal)
        guard i + l.count <= chars.count, Array(chars[i..<(i + l.count)]) == l else { return false }
        i += l.count
        return true
    }

    static func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
    static func isWordChar(_ c: Character) -> Bool { isAlnum(c) || c == "_" }

    /// `[a-zA-Z0-9][a-zA-Z0-9._-]*` ending on a word boundary (as packaging's IDENTIFIER).
    mutating func identifier(_ what: String) throws -> String {
        let start = i
        guard let c = peek, Self.isAlnum(c) else { throw fail("expected \(what)") }
        var end = i + 1
        while end < chars.count, Self.isWordChar(chars[end]) || chars[end] == "." || chars[end] == "-" { end += 1 }
        // Back off to the last word character so the token ends on a word boundary.
        while end > start + 1, !Self.isWordChar(chars[end - 1]) { end -= 1 }
        i = end
        return String(chars[start..<end])
    }

    mutating func requirement() throws -> Requirement {
        skipSpace()
        let nameOffset = i
        let name = try identifier("a package name")
        skipSpace()
        var extras: [String] = []
        if consume("[") {
            skipSpace()
            if peek != "]" {
                extras.append(try identifier("an extra name"))
                skipSpace()
                while consume(",") {
                    skipSpace()
                    extras.append(try identifier("an extra name after ','"))
                    skipSpace()
                }
            }
            guard consume("]") else { throw fail("expected ']' or ',' in the extras") }
            skipSpace()
        }
        var url: String?
        var specifiers: [Specifier] = []
        var specifierOffset: Int?
        var marker: String?
        if consume("@") {
            skipSpace()
            let start = i
            while let c = peek, c != " " && c != "\t" { i += 1 }
            guard i > start else { throw fail("expected a URL after '@'") }
            url = String(chars[start..<i])
            let hadSpace = peek == " " || peek == "\t"
            skipSpace()
            if hadSpace && consume(";") {
                marker = try markerExpression()
            }
        } else {
            specifierOffset = i
            if consume("(") {
                skipSpace()
                specifiers = try specifierList(closing: ")")
                skipSpace()
                guard consume(")") else { throw fail("expected ')' after the version specifiers") }
            } else {
                specifiers = try specifierList(closing: nil)
            }
            skipSpace()
            if specifiers.isEmpty { specifierOffset = nil }
            if consume(";") {
                marker = try markerExpression()
            }
        }
        skipSpace()
        if !atEnd {
            if url == nil, specifiers.isEmpty, marker == nil, let c = peek, "=<>!~".contains(c) {
                throw fail("invalid version specifier")
            }
            if marker != nil { throw fail("unexpected text after the marker (join conditions with 'and' or 'or')") }
            throw fail(
                url != nil
                    ? "expected end of requirement after the URL (a marker needs a space before ';')"
                    : "expected a version specifier, ';' or the end of the requirement")
        }
        return Requirement(
            name: name, extras: extras, specifiers: specifiers, url: url, marker: marker,
            nameOffset: nameOffset, specifierOffset: specifierOffset)
    }

    mutating func specifierOperator() -> Specifier.Op? {
        for op in [Specifier.Op.arbitrary, .compatible, .equal, .notEqual, .lessEqual, .greaterEqual, .less, .greater]
        where consume(op.rawValue) {
            return op
        }
        return nil
    }

    mutating func specifierList(closing: Character?) throws -> [Specifier] {
        var result: [Specifier] = []
        guard let first = try specifier() else { return [] }
        result.append(first)
        while true {
            let save = i
            skipSpace()
            guard consume(",") else { i = save; break }
            skipSpace()
            // packaging accepts one trailing comma: the list ends at the first ',' with no clause after it.
            guard let next = try specifier() else { break }
            result.append(next)
        }
        return result
    }

    mutating func specifier() throws -> Specifier? {
        let start = i
        guard let op = specifierOperator() else { return nil }
        skipSpace()
        let versionStart = i
        while let c = peek, !" \t,;)".contains(c) { i += 1 }
        let version = String(chars[versionStart..<i])
        guard !version.isEmpty else { throw fail("expected a version after '\(op.rawValue)'") }
        switch Specifier.make(op: op, version: version) {
        case .success(let s): return s
        case .failure(let e): throw fail(e.message, at: start)
        }
    }

    // MARK: markers

    /// A parsed marker, shaped as packaging's parser shapes it so that it prints the same way.
    indirect enum MarkerElement {
        case item(String)
        case op(String)
        case group([MarkerElement])
    }

    mutating func markerExpression() throws -> String {
        Self.format(.group(try markerList()), first: true)
    }

    mutating func markerList() throws -> [MarkerElement] {
        skipSpace()
        var elements = [try markerAtom()]
        while true {
            let save = i
            skipSpace()
            if let op = keyword(["and", "or"]) {
                elements.append(.op(op))
                elements.append(try markerAtom())
            } else {
                i = save
                return elements
            }
        }
    }

    mutating func markerAtom() throws -> MarkerElement {
        skipSpace()
        if consume("(") {
            let inner = try markerList()
            skipSpace()
            guard consume(")") else { throw fail("expected ')' to close the marker group") }
            return .group(inner)
        }
        let left = try markerValue()
        skipSpace()
        let op = try markerOperator()
        skipSpace()
        let right = try markerValue()
        return .item("\(left) \(op) \(right)")
    }

    /// packaging's `_format_marker`: a group of one element prints as that element, the outermost
    /// group without parentheses, inner groups with them.
    static func format(_ element: MarkerElement, first: Bool) -> String {
        switch element {
        case .item(let text), .op(let text): return text
        case .group(let elements):
            if elements.count == 1, case .group = elements[0] { return format(elements[0], first: true) }
            if elements.count == 1, case .item(let text) = elements[0] { return text }
            let inner = elements.map { format($0, first: false) }.joined(separator: " ")
            return first ? inner : "(" + inner + ")"
        }
    }

    /// A word such as `and`, `in`, `not`, followed by a word boundary.
    mutating func keyword(_ words: [String]) -> String? {
        for word in words {
            let l = Array(word)
            guard i + l.count <= chars.count, Array(chars[i..<(i + l.count)]) == l else { continue }
            if i + l.count < chars.count, Self.isWordChar(chars[i + l.count]) { continue }
            if i > 0, Self.isWordChar(chars[i - 1]) { continue }
            i += l.count
            return word
        }
        return nil
    }

    mutating func markerOperator() throws -> String {
        if let op = keyword(["in"]) { return op }
        let save = i
        if keyword(["not"]) != nil {
            skipSpace()
            if keyword(["in"]) != nil { return "not in" }
            i = save
            throw fail("expected 'in' after 'not'")
        }
        for op in ["===", "==", "~=", "!=", "<=", ">=", "<", ">"] where consume(op) { return op }
        throw fail("expected a marker operator (<, <=, ==, !=, >=, >, ~=, ===, in, not in)")
    }

    mutating func markerValue() throws -> String {
        if let quote = peek, quote == "'" || quote == "\"" {
            let start = i
            i += 1
            while let c = peek, c != quote { i += 1 }
            guard consume(String(quote)) else { throw fail("unterminated string in the marker", at: start) }
            let body = String(chars[(start + 1)..<(i - 1)])
            return body.contains("\"") ? "'\(body)'" : "\"\(body)\""
        }
        let start = i
        while let c = peek, Self.isWordChar(c) || c == "." { i += 1 }
        let word = String(chars[start..<i])
        guard PEP508Parser.markerVariables.contains(word) else {
            i = start
            throw fail(
                word.isEmpty ? "expected a marker variable or a quoted string" : "unknown marker variable '\(word)'")
        }
        return PEP508Parser.markerAliases[word] ?? word
    }
}
