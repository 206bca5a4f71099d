import Foundation

/// The smoke test's document as it wrote it (`modelpack.test/1`), and its text here.
extension TestResult: CommandReport {
    package func text(colour: Bool) -> String {
        var lines = ["\(name) \(version)"]
        if let loadSeconds { lines.append("  load_model(): \(String(format: "%.2f", loadSeconds)) s") }
        if let note { lines.append("  \(note)") }
        // The predictions as the document spells them (1.0 stays a float), in Python's spelling.
        if let examples, let object = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
            let predictions = object["predictions"]
        {
            lines.append("  \(examples) examples predicted: \(String(PythonJSON.dumps(predictions).prefix(200)))")
        }
        if let rowLatency, let batchMillisecondsPerRow {
            lines.append(
                "  per-row latency: median \(rowLatency.median) ms, max \(rowLatency.max) ms over "
                    + "\(rowLatency.runs) single-row calls; \(batchMillisecondsPerRow) ms per row in one batch")
        }
        if let peakMiB { lines.append("  peak memory: \(peakMiB) MiB") }
        let failed = colour ? "\u{1B}[1;31mFAILED\u{1B}[0m" : "FAILED"
        lines += failures.map { "  \(failed): \($0)" }
        lines.append(failures.isEmpty ? "passed" : failed)
        return lines.joined(separator: "\n") + "\n"
    }
    package func json() -> String { document + "\n" }
    package func fails(strict: Bool) -> Bool { !failures.isEmpty }
}

/// JSON spelt as Python's `json.dumps` spells it (`[1, "caf\u00e9"]`, `{"k": 2.5}`, ASCII only):
/// how a prediction reads in test's text. Object keys come sorted, as in the report's document.
enum PythonJSON {
    static func dumps(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let string as String: return quote(string)
        case let array as [Any]: return "[" + array.map(dumps).joined(separator: ", ") + "]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { quote($0) + ": " + dumps(object[$0]!) }.joined(separator: ", ")
                + "}"
        case let number as NSNumber:
            // JSON's true and false are the char-typed numbers; the others print as Python's repr.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.description
        default: return String(describing: value)
        }
    }

    /// A string as `json.dumps` quotes it with `ensure_ascii`: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`,
    /// `\f`, and `\uXXXX` (UTF-16, lower-case hex) for any other control or non-ASCII.
    static func quote(_ string: String) -> String {
        var out = "\""
        for unit in string.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
