/// A Python tokenizer sufficient to find definitions without executing or regex-matching the
/// source: comments, all string forms (prefixes, single/double quotes, triple-quoted strings over
/// several lines, escapes), backslash continuations, implicit joining inside brackets, and the
/// indentation of each logical line.
struct PythonTokenizer {
    struct Token: Equatable {
        enum Kind { case name, op, string, number, other }
        let kind: Kind
        let text: String
        let line: Int
        let column: Int
    }

    /// The characters between a string literal's quotes (its prefix and quotes dropped; escapes
    /// are kept as written): enough to tell which file names a source mentions.
    static func literalContent(_ token: Token) -> String? {
        guard token.kind == .string else { return nil }
        let text = token.text.drop { $0 != "'" && $0 != "\"" }
        guard let quote = text.first else { return nil }
        let triple = text.hasPrefix(String(repeating: quote, count: 3)) && text.count >= 6
        let width = triple ? 3 : 1
        guard text.count >= 2 * width else { return nil }
        return String(text.dropFirst(width).dropLast(width))
    }

    struct LogicalLine {
        let indent: Int
        let tokens: [Token]
        var line: Int { tokens.first?.line ?? 0 }
    }

    struct Problem: Error {
        let message: String
        let line: Int
        let column: Int
    }

    static func logicalLines(_ source: String) throws -> [LogicalLine] {
        let chars = Array(source)
        var i = 0, line = 1, column = 1
        var lines: [LogicalLine] = []
        var tokens: [Token] = []
        var depth = 0
        var indent = 0
        var atLineStart = true
        var brackets: [(Character, Int, Int)] = []

        func advance() {
            if chars[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
        func endLogicalLine() {
            if !tokens.isEmpty { lines.append(LogicalLine(indent: indent, tokens: tokens)) }
            tokens = []
            atLineStart = true
        }

        while i < chars.count {
            if atLineStart && depth == 0 {
                var width = 0
                while i < chars.count, chars[i] == " " || chars[i] == "\t" || chars[i] == "\u{0C}" {
                    width = chars[i] == "\t" ? (width / 8 + 1) * 8 : width + 1
                    advance()
                }
                indent = width
                atLineStart = false
                continue
            }
            let c = chars[i]
            switch c {
            case "\n":
                advance()
                if depth == 0 { endLogicalLine() }
            case "\r", " ", "\t", "\u{0C}":
                advance()
            case "#":
                while i < chars.count, chars[i] != "\n" { advance() }
            case "\\":
                let (l, col) = (line, column)
                advance()
                if i < chars.count, chars[i] == "\r" { advance() }
                guard i < chars.count, chars[i] == "\n" else {
                    throw Problem(message: "unexpected character after line continuation", line: l, column: col)
                }
                advance()  // joined: the logical line goes on
            case "(", "[", "{":
                brackets.append((c, line, column))
                depth += 1
                tokens.append(Token(kind: .op, text: String(c), line: line, column: column))
                advance()
            case ")", "]", "}":
                guard let open = brackets.popLast() else {
                    throw Problem(message: "unmatched '\(c)'", line: line, column: column)
                }
                let expected: Character = open.0 == "(" ? ")" : open.0 == "[" ? "]" : "}"
                if c != expected {
                    throw Problem(
                        message: "'\(c)' does not match '\(open.0)' at line \(open.1)", line: line, column: column)
                }
                depth -= 1
                tokens.append(Token(kind: .op, text: String(c), line: line, column: column))
                advance()
            case "'", "\"":
                tokens.append(try string(prefixLength: 0))
            default:
                if c.isLetter || c == "_" {
                    let (l, col) = (line, column)
                    var text = ""
                    while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" {
                        text.append(chars[i])
                        advance()
                    }
                    if text.count <= 3, i < chars.count, chars[i] == "'" || chars[i] == "\"",
                        Set(text.lowercased()).isSubset(of: ["r", "b", "u", "f"])
                    {
                        tokens.append(try string(prefixLength: text.count, line: l, column: col))
                    } else {
                        tokens.append(Token(kind: .name, text: text, line: l, column: col))
                    }
                } else if c.isNumber {
                    let (l, col) = (line, column)
                    var text = ""
                    while i < chars.count, chars[i].isNumber || chars[i].isLetter || chars[i] == "." || chars[i] == "_"
                    {
                        text.append(chars[i])
                        advance()
                    }
                    tokens.append(Token(kind: .number, text: text, line: l, column: col))
                } else {
                    tokens.append(Token(kind: .op, text: String(c), line: line, column: column))
                    advance()
                }
            }
        }
        if let open = brackets.last {
            throw Problem(message: "'\(open.0)' is never closed", line: open.1, column: open.2)
        }
        endLogicalLine()
        return lines

        func string(prefixLength: Int, line l: Int? = nil, column col: Int? = nil) throws -> Token {
            let startLine = l ?? line, startColumn = col ?? column
            let begin = i - prefixLength
            let quote = chars[i]
            let triple = i + 2 < chars.count && chars[i + 1] == quote && chars[i + 2] == quote
            let count = triple ? 3 : 1
            for _ in 0..<count { advance() }
            while true {
                guard i < chars.count else {
                    throw Problem(
                        message: triple ? "unterminated triple-quoted string" : "unterminated string",
                        line: startLine, column: startColumn)
                }
                let c = chars[i]
                if c == "\\" {
                    advance()
                    if i < chars.count { advance() }
                    continue
                }
                if c == "\n" && !triple {
                    throw Problem(message: "unterminated string", line: startLine, column: startColumn)
                }
                if c == quote {
                    if !triple { advance(); break }
                    if i + 2 < chars.count, chars[i + 1] == quote, chars[i + 2] == quote {
                        advance(); advance(); advance()
                        break
                    }
                }
                advance()
            }
            return Token(kind: .string, text: String(chars[begin..<i]), line: startLine, column: startColumn)
        }
    }
}
