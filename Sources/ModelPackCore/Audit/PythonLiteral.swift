/// A Python literal as `ast.literal_eval` reads it, for the header of a `.npy` file (numpy parses
/// it with `safe_eval`): strings, integers, True/False/None, tuples, lists and dicts, nested at
/// most `maxDepth` deep. Nothing is evaluated.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(PythonLiteral, PythonLiteral)])

    static let maxDepth = 32

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.none, .none): return true
        case (.tuple(let x), .tuple(let y)), (.list(let x), .list(let y)): return x == y
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of `key` in a dict with string keys.
    subscript(key: String) -> PythonLiteral? {
        guard case .dict(let pairs) = self else { return nil }
        return pairs.first { $0.0 == .string(key) }?.1
    }

    /// Parses the whole of `text` (surrounding whitespace allowed); nil for anything else.
    static func parse(_ text: String) -> PythonLiteral? {
        var parser = Parser(chars: Array(text.unicodeScalars))
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.at == parser.chars.count ? value : nil
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        var at = 0

        mutating func skipSpace() {
            while at < chars.count, [" ", "\t", "\n", "\r"].contains(chars[at]) { at += 1 }
        }

        mutating func value(depth: Int) -> PythonLiteral? {
            guard depth < PythonLiteral.maxDepth else { return nil }
            skipSpace()
            guard at < chars.count else { return nil }
            switch chars[at] {
            case "'", "\"": return string()
            case "(": return sequence(close: ")", depth: depth).map { .tuple($0) }
            case "[": return sequence(close: "]", depth: depth).map { .list($0) }
            case "{": return dict(depth: depth)
            case "-", "+", "0"..."9": return number()
            default:
                for (word, literal) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
                where matches(word) {
                    at += word.unicodeScalars.count
                    return literal
                }
                return nil
            }
        }

        func matches(_ word: String) -> Bool {
            let scalars = Array(word.unicodeScalars)
            guard at + scalars.count <= chars.count, Array(chars[at..<(at + scalars.count)]) == scalars else {
                return false
            }
            let next = at + scalars.count
            return next == chars.count || !(chars[next].properties.isAlphabetic || chars[next] == "_")
        }

        mutating func string() -> PythonLiteral? {
            let quote = chars[at]
            at += 1
            var out = String.UnicodeScalarView()
            while at < chars.count {
                let c = chars[at]
                at += 1
                if c == quote { return .string(String(out)) }
                if c == "\n" { return nil }
                if c == "\\" {
                    guard at < chars.count else { return nil }
                    let e = chars[at]
                    at += 1
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "0": out.append("\0")
                    case "\\", "'", "\"": out.append(e)
                    default: return nil  // \x, \u...: not in a numpy header; refused rather than guessed
                    }
                    continue
                }
                out.append(c)
            }
            return nil
        }

        mutating func number() -> PythonLiteral? {
            var text = ""
            if chars[at] == "-" || chars[at] == "+" {
                text.unicodeScalars.append(chars[at])
                at += 1
            }
            while at < chars.count, ("0"..."9").contains(chars[at]) {
                text.unicodeScalars.append(chars[at])
                at += 1
            }
            if at < chars.count, chars[at] == "L" { at += 1 }  // Python 2's long, as old numpy wrote
            return Int64(text).map { .int($0) }
        }

        mutating func sequence(close: Unicode.Scalar, depth: Int) -> [PythonLiteral]? {
            at += 1
            var items: [PythonLiteral] = []
            while true {
                skipSpace()
                guard at < chars.count else { return nil }
                if chars[at] == close {
                    at += 1
                    return items
                }
                guard let item = value(depth: depth + 1) else { return nil }
                items.append(item)
                skipSpace()
                guard at < chars.count else { return nil }
                if chars[at] == "," {
                    at += 1
                } else if chars[at] != close {
                    return nil
                }
            }
        }

        mutating func dict(depth: Int) -> PythonLiteral? {
            at += 1
            var pairs: [(PythonLiteral, PythonLiteral)] = []
            while true {
                skipSpace()
                guard at < chars.count else { return nil }
                if chars[at] == "}" {
                    at += 1
                    return .dict(pairs)
                }
                guard let key = value(depth: depth + 1) else { return nil }
                skipSpace()
                guard at < chars.count, chars[at] == ":" else { return nil }
                at += 1
                guard let item = value(depth: depth + 1) else { return nil }
                pairs.append((key, item))
                skipSpace()
                guard at < chars.count else { return nil }
                if chars[at] == "," {
                    at += 1
                } else if chars[at] != "}" {
                    return nil
                }
            }
        }
    }
}

/// What a numpy dtype description (an `.npy` header's `descr`) holds: whether any part of it is a
/// Python object (then `numpy.load(allow_pickle=True)` unpickles the data), told from every
/// spelling numpy accepts for the other types. Anything else is not understood: nil.
enum NumpyDescr {
    /// Whether `descr` has an object field (true), has none (false), or is not understood (nil).
    static func hasObject(_ descr: PythonLiteral, depth: Int = 0) -> Bool? {
        guard depth < PythonLiteral.maxDepth else { return nil }
        switch descr {
        case .string(let text):
            // `'i4,f8'` is a structured dtype of its comma-separated parts.
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            var any = false
            for part in parts {
                guard let object = typeString(String(part)) else { return nil }
                any = any || object
            }
            return any
        case .tuple(let items):
            // (base, shape) for a subarray.
            guard items.count == 2 else { return nil }
            return hasObject(items[0], depth: depth + 1)
        case .list(let fields):
            // [(name, type), (name, type, shape), ...]; a name may be (title, name).
            var any = false
            for field in fields {
                guard case .tuple(let parts) = field, parts.count == 2 || parts.count == 3,
                    let object = hasObject(parts[1], depth: depth + 1)
                else { return nil }
                any = any || object
            }
            return any
        default:
            return nil
        }
    }

    /// One type string: true for an object type, false for a type that holds no object, nil when
    /// it is not one numpy's descriptions spell.
    static func typeString(_ raw: String) -> Bool? {
        var text = Substring(raw.trimmingCharacters(in: .whitespaces))
        // A subarray written in the string: `(2,3)i4`.
        if text.first == "(", let close = text.firstIndex(of: ")") { text = text[text.index(after: close)...] }
        if let first = text.first, "<>|=!".contains(first) { text = text.dropFirst() }
        let lower = text.lowercased()
        if lower.hasPrefix("o") || lower.hasPrefix("object") { return true }
        if names.contains(lower) { return false }
        // Unit-bearing datetimes: M8[ns], datetime64[s], m8[D].
        if let open = lower.firstIndex(of: "["), lower.hasSuffix("]") {
            let base = String(lower[..<open])
            return ["m8", "datetime64", "timedelta64"].contains(base) ? false : nil
        }
        // A kind letter and a size: i4, f8, U10, S5, V16, b1, c16.
        guard let kind = text.first, "biufcSUVamM".contains(kind) else { return nil }
        let digits = text.dropFirst()
        return digits.isEmpty || digits.allSatisfy(\.isNumber) ? false : nil
    }

    /// The one-character codes and the names of numpy's non-object types (lower-cased).
    static let names: Set<String> = [
        "?", "b", "h", "i", "l", "q", "p", "e", "f", "d", "g", "F", "D", "G", "B", "H", "I", "L", "Q", "P",
        "bool", "bool_", "bool8", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "float128", "complex64", "complex128", "complex256", "half", "single",
        "double", "longdouble", "int", "float", "complex", "str", "str_", "unicode", "bytes", "bytes_", "void",
        "datetime64", "timedelta64", "byte", "ubyte", "short", "ushort", "intc", "uintc", "int_", "uint",
        "longlong", "ulonglong", "intp", "uintp", "float_", "complex_", "csingle", "cdouble", "clongdouble",
    ].reduce(into: Set<String>()) { $0.insert($1.lowercased()) }
}
