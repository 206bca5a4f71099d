/// A model card in Markdown: Hugging Face's YAML front matter (license, library_name, tags, metrics
/// as model-index), so it reads on the Hub, then the Model Cards sections (Mitchell et al., 2019)
/// from metadata.yaml's optional `card` fields and `metrics`, then what only modelpack knows: the
/// bundle digest, every file and digest, the artifact formats and audit verdicts, the signature,
/// the environment, the input and output schema and an example request. A section with no data
/// says "Not provided." and nothing is invented.
package enum ModelCard {
    /// metadata.yaml's `card` keys, in the order the card shows them, with their section titles.
    static let sections: [(key: String, title: String)] = [
        ("intended_use", "Intended use"), ("out_of_scope_use", "Out-of-scope use"), ("factors", "Factors"),
        ("evaluation_data", "Evaluation data"), ("training_data", "Training data"),
        ("ethical_considerations", "Ethical considerations"), ("caveats", "Caveats and recommendations"),
    ]

    /// Hugging Face `library_name` values for the frameworks metadata.yaml names.
    static let libraries: [String: String] = [
        "scikit-learn": "sklearn", "sklearn": "sklearn", "pytorch": "pytorch", "torch": "pytorch",
        "tensorflow": "tf-keras", "keras": "keras", "transformers": "transformers", "xgboost": "xgboost",
        "lightgbm": "lightgbm", "catboost": "catboost", "onnx": "onnx", "onnxruntime": "onnx", "spacy": "spacy",
        "gguf": "gguf", "llama.cpp": "gguf", "jax": "jax", "statsmodels": "statsmodels",
    ]

    /// `signature`: what BUNDLE.sig says without keys to check it ("none", or the key ids).
    static func markdown(_ verdict: ModelVerdict, signedBy keyIDs: [String]?) -> String {
        let root = verdict.metadataText.flatMap { try? YAMLReader.parse($0, limits: verdict.limits.yaml) } ?? nil
        func text(_ key: String) -> String? {
            guard let s = root?[key]?.scalar, !s.isEmpty, root?[key]?.isNull == false else { return nil }
            return s
        }
        let name = verdict.name ?? "model"
        let version = verdict.version ?? "?"
        let framework = root?["framework"]?["name"]?.scalar
        let frameworkVersion = root?["framework"]?["version"]?.scalar
        let metrics: [(String, String)] = (root?["metrics"]?.mappingPairs ?? []).compactMap { pair in
            guard let key = pair.key.scalar, let value = pair.value.scalar else { return nil }
            return (key, value)
        }
        var tags = ["modelpack"]
        if let task = text("task") { tags.append(task) }
        for item in root?["tags"]?.sequenceItems ?? [] { if let t = item.scalar, !tags.contains(t) { tags.append(t) } }

        var out = "---\n"
        if let license = text("license") { out += "license: \(yaml(license.lowercased()))\n" }
        if let framework, let library = libraries[framework.lowercased()] { out += "library_name: \(library)\n" }
        out += "tags:\n" + tags.map { "- \(yaml($0))\n" }.joined()
        if !metrics.isEmpty {
            out +=
                "model-index:\n- name: \(yaml(name))\n  results:\n  - task:\n      type: \(yaml(text("task") ?? "other"))\n"
            // The Hub wants a dataset per result; metadata.yaml does not name one.
            out += "    dataset:\n      name: not provided\n      type: other\n"
            out += "    metrics:\n"
            for (key, value) in metrics {
                out +=
                    "    - type: \(yaml(key))\n      name: \(yaml(key))\n      value: \(number(value) ?? yaml(value))\n"
            }
        }
        out += "---\n\n# \(name) \(version)\n\n"
        out += (text("description") ?? "No description provided.") + "\n\n"

        out += "## Model details\n\n| | |\n| --- | --- |\n"
        out += "| Name | \(cell(name)) |\n| Version | \(cell(version)) |\n"
        out +=
            "| Framework | \(cell([framework, frameworkVersion].compactMap { $0 }.joined(separator: " "), or: "Not provided")) |\n"
        out += "| Task | \(cell(text("task"), or: "Not provided")) |\n"
        out += "| License | \(cell(text("license"), or: "Not provided")) |\n"
        let authors = (root?["authors"]?.sequenceItems ?? []).compactMap { a -> String? in
            if let s = a.scalar { return s }
            guard let n = a["name"]?.scalar else { return nil }
            return a["email"]?.scalar.map { "\(n) <\($0)>" } ?? n
        }
        out += "| Authors | \(cell(authors.isEmpty ? nil : authors.joined(separator: ", "), or: "Not provided")) |\n"
        out += "| Python | \(cell(text("python"), or: "Not provided")) |\n\n"

        let card = root?["card"]
        for (key, title) in sections {
            let body = card?[key]?.scalar.flatMap { $0.isEmpty ? nil : $0 }
            out += "## \(title)\n\n" + (body.map { $0.trimmingTrailingNewlines() } ?? "Not provided.") + "\n\n"
        }
        out += "## Metrics\n\n"
        if metrics.isEmpty {
            out += "Not provided.\n\n"
        } else {
            out +=
                "| Metric | Value |\n| --- | --- |\n" + metrics.map { "| \(cell($0.0)) | \(cell($0.1)) |\n" }.joined()
                + "\n"
        }

        out += "## Inputs and outputs\n\n"
        out += "| | Name | Type | Details | Description |\n| --- | --- | --- | --- | --- |\n"
        for (side, nodes) in [
            ("input", root?["inputs"]?.sequenceItems ?? []), ("output", root?["outputs"]?.sequenceItems ?? []),
        ] {
            for node in nodes {
                var details: [String] = []
                if let categories = node["categories"]?.sequenceItems {
                    details.append("one of " + categories.compactMap(\.scalar).joined(separator: ", "))
                }
                if let shape = node["shape"]?.sequenceItems {
                    details.append(
                        "shape [" + shape.map { $0.isNull ? "any" : ($0.scalar ?? "?") }.joined(separator: ", ") + "]")
                }
                if let dtype = node["dtype"]?.scalar { details.append(dtype) }
                out +=
                    "| \(side) | \(cell(node["name"]?.scalar ?? "?")) | \(cell(node["type"]?.scalar ?? "?")) | "
                    + "\(cell(details.joined(separator: "; "))) | \(cell(node["description"]?.scalar)) |\n"
            }
        }
        out += "\n## Example request\n\n"
        if let example = root?["example"], let json = try? jsonValue(example) {
            let body = "{\"instances\": \(json)}"
            out += "With `modelpack serve` (or the image from `modelpack dockerfile`) listening on port 8080:\n\n"
            out += "```sh\ncurl -s http://127.0.0.1:8080/predict -H 'Content-Type: application/json' \\\n"
            out += "  -d '\(body.replacingOccurrences(of: "'", with: "'\\''"))'\n```\n\n"
            let outputs = (root?["outputs"]?.sequenceItems ?? []).compactMap { $0["name"]?.scalar }
            out +=
                "The response is `{\"predictions\": [...]}`, one item per instance"
                + (outputs.isEmpty ? "" : " (" + outputs.map { "`\($0)`" }.joined(separator: ", ") + ")")
                + "; this card does not run the model, so it shows no values.\n\n"
        } else {
            out += "Not provided (metadata.yaml has no `example`).\n\n"
        }

        out += "## Provenance (modelpack)\n\n"
        let records = verdict.fileRecords
        out += "- Bundle digest: `\(verdict.bundleDigest)`"
        out += verdict.summary == nil ? " (of the bundle `modelpack build` makes from this directory)\n" : "\n"
        if let summary = verdict.summary {
            out += "- Container: \(summary.container.rawValue), written by \(summary.manifest.tool)\n"
        }
        switch keyIDs {
        case nil: out += "- Signature: none (a directory is not signed)\n"
        case let ids? where ids.isEmpty: out += "- Signature: none (no BUNDLE.sig)\n"
        case let ids?:
            out += "- Signature: BUNDLE.sig by key \(ids.joined(separator: ", ")), not checked here "
            out += "(`modelpack verify BUNDLE \(CommandFlag.key) PUB`)\n"
        }
        let report = verdict.report
        out += "- Checks: \(report.errorCount) error(s), \(report.warningCount) warning(s) (`modelpack validate`)\n\n"
        out += "| File | Role | Size | SHA-256 |\n| --- | --- | --- | --- |\n"
        for record in records {
            out += "| \(cell(record.path)) | \(record.role.rawValue) | \(record.size) | `\(record.sha256)` |\n"
        }
        if !verdict.audits.isEmpty {
            out += "\n| Artifact | Format | Audit verdict |\n| --- | --- | --- |\n"
            for audit in verdict.audits {
                out += "| \(cell(audit.path)) | \(audit.format.rawValue) | \(audit.verdict.rawValue) |\n"
            }
        }
        out += "\n### Environment\n\n"
        let pins = verdict.requirements.entries.compactMap { $0.requirement }.map { r in
            r.name + r.specifiers.map(\.description).joined(separator: ",") + (r.marker.map { "; " + $0 } ?? "")
        }
        if pins.isEmpty {
            out += "No requirements.\n"
        } else {
            out += "```\n" + pins.joined(separator: "\n") + "\n```\n"
        }
        return out
    }

    /// A YAML scalar, quoted when it would not read back as the same string.
    static func yaml(_ s: String) -> String {
        let plain =
            s.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(s.lowercased())
            && Double(s) == nil && !s.isEmpty
        if plain { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func number(_ s: String) -> String? { Double(s) != nil && !s.contains(where: \.isLetter) ? s : nil }

    /// A Markdown table cell: one line, pipes escaped.
    static func cell(_ s: String?, or missing: String = "") -> String {
        guard let s, !s.isEmpty else { return missing }
        return s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
    }

    /// A YAML node as JSON (the example rows), with scalars read as the core schema reads them.
    static func jsonValue(_ node: YAMLNode) throws -> String {
        switch node.value {
        case .sequence(let items): return "[" + (try items.map(jsonValue)).joined(separator: ", ") + "]"
        case .mapping(let pairs):
            return "{"
                + (try pairs.map { "\(jsonString($0.key.scalar ?? "")): \(try jsonValue($0.value))" })
                .joined(separator: ", ") + "}"
        case .scalar(let text, _):
            switch node.scalarKind {
            case .null?: return "null"
            case .bool(let b)?: return b ? "true" : "false"
            case .int?: return text.hasPrefix("+") ? String(text.dropFirst()) : text
            case .float(let d)? where d.isFinite:
                // JSON has no '+1.5' or '.5': write those as Swift prints the number.
                let json = text.first.map { $0 == "-" || $0.isNumber } == true && text.last?.isNumber == true
                return json ? text : String(d)
            default: return jsonString(text)
            }
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
