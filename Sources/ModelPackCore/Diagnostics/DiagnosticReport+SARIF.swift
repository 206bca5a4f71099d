import Foundation

extension DiagnosticReport {
    /// SARIF 2.1.0, as GitHub code scanning reads it: one run, the modelpack driver with one rule
    /// per diagnostic code that occurs, one result per diagnostic with a region when it has a line.
    package func sarif(toolVersion: String) -> String {
        let codes = Array(Set(diagnostics.map(\.code))).sorted { $0.rawValue < $1.rawValue }
        let index = Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) })
        let rules: [[String: Any]] = codes.map { code in
            [
                "id": code.rawValue,
                "name": code.title,
                "shortDescription": ["text": code.summary],
                "defaultConfiguration": ["level": Self.level(code.severity)],
                "help": ["text": "See Docs/DIAGNOSTICS.md, \(code.rawValue)."],
            ]
        }
        let results: [[String: Any]] = diagnostics.map { d in
            var region: [String: Any] = [:]
            if let line = d.line { region["startLine"] = line }
            if let column = d.column { region["startColumn"] = column }
            var physical: [String: Any] = ["artifactLocation": ["uri": Self.uri(displayPath(d.file))]]
            if !region.isEmpty { physical["region"] = region }
            var message = d.message
            if let hint = d.hint { message += " (hint: \(hint))" }
            return [
                "ruleId": d.code.rawValue,
                "ruleIndex": index[d.code]!,
                "level": Self.level(d.severity),
                "message": ["text": message],
                "locations": [["physicalLocation": physical]],
            ]
        }
        let document: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                [
                    "tool": [
                        "driver": [
                            "name": "modelpack",
                            "version": toolVersion,
                            "rules": rules,
                        ]
                    ],
                    "results": results,
                ]
            ],
        ]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .error: return "error"
        case .warning: return "warning"
        case .note: return "note"
        }
    }

    /// A relative URI reference (or a file: URI for absolute paths), percent-encoded.
    static func uri(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":!")
        let encoded = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return path.hasPrefix("/") ? "file://" + encoded : encoded
    }
}
