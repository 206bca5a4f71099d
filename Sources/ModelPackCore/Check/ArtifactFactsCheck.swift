/// metadata.yaml held to what the artifacts record (MP114), the facts `init` reads, never by
/// loading: a scikit-learn, LightGBM or XGBoost pickle's feature names, feature count, encoder
/// categories and classes, and an ONNX graph's inputs (names, element types, shapes). Each
/// finding names both places: the line of metadata.yaml and the artifact.
///
/// Where interface.py plainly transforms the inputs (the columns metadata declares share no name
/// with the ones the model was fitted on), names are not compared; a renamed or mistyped column
/// (some names shared, some not) is an error, which `test` would otherwise find as a KeyError.
enum ArtifactFactsCheck {
    typealias IOSpec = MetadataDocument.IOSpec

    static func check(
        _ audits: [ArtifactAudit], metadata: MetadataDocument, into collector: inout DiagnosticCollector
    ) {
        var found: [Diagnostic] = []
        func add(_ message: String, _ mark: SourceMark?, _ hint: String, _ severity: Severity) {
            found.append(
                Diagnostic(
                    .artifactMismatch, message, file: ModelDirectory.metadataFile, line: mark?.line,
                    column: mark?.column, hint: hint, severity: severity))
        }
        let columns = metadata.inputs.filter { $0.type != "tensor" }
        let tensors = metadata.inputs.filter { $0.type == "tensor" }
        for audit in audits {
            if let facts = audit.pickle?.estimator {
                check(facts, artifact: audit.path, columns: columns, tensors: tensors, metadata: metadata, add)
            }
            if let graph = audit.graph, !tensors.isEmpty, columns.isEmpty {
                check(graph, artifact: audit.path, tensors: tensors, add)
            }
        }
        for diagnostic in found { collector.add(diagnostic) }
    }

    private static func list(_ names: [String]) -> String {
        names.prefix(8).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 8 ? ", …" : "")
    }

    private static func check(
        _ facts: EstimatorFacts, artifact: String, columns: [IOSpec], tensors: [IOSpec], metadata: MetadataDocument,
        _ add: (String, SourceMark?, String, Severity) -> Void
    ) {
        if let fitted = facts.featureNames, !facts.namesIncomplete, tensors.isEmpty, !columns.isEmpty {
            let declared = columns.map(\.name)
            let shared = Set(declared).intersection(fitted)
            if !shared.isEmpty, Set(declared) != Set(fitted) {
                let extra = columns.filter { !fitted.contains($0.name) }
                let missing = fitted.filter { !declared.contains($0) }
                var parts: [String] = []
                if !extra.isEmpty {
                    let verb = extra.count == 1 ? "is not a column" : "are not columns"
                    parts.append("input \(list(extra.map(\.name))) \(verb) \(artifact) was fitted on")
                }
                if !missing.isEmpty { parts.append("no input is \(list(missing)), which it was") }
                add(
                    parts.joined(separator: ", and ") + " (its columns: " + list(fitted) + ")",
                    (extra.first ?? columns[0]).mark,
                    "name the inputs as the columns the model was fitted on", .error)
            }
        } else if facts.featureNames == nil, let count = facts.featureCount {
            if tensors.count == 1, columns.isEmpty, let shape = tensors[0].shape, shape.count == 1,
                let width = shape[0], width != count
            {
                add(
                    "input '\(tensors[0].name)' has shape [\(width)], but \(artifact) takes \(count) features a row",
                    tensors[0].mark, "give the input shape [\(count)]", .error)
            } else if tensors.isEmpty, !columns.isEmpty, columns.count != count {
                // Fitted on a matrix, the model names no column: interface.py may build its
                // features from these inputs, so this is a warning, not an error.
                add(
                    "metadata.yaml declares \(columns.count) inputs, but \(artifact) takes \(count) features a row",
                    columns[0].mark,
                    "declare one input per feature, in the order the model was fitted on (unless interface.py derives them)",
                    .warning)
            }
        }
        // By name; or, fitted on a matrix, by position.
        let positional = facts.featureNames == nil && facts.featureCount == columns.count
        for (index, input) in columns.enumerated() where input.type == "categorical" && !input.categories.isEmpty {
            guard let learned = facts.categories[input.name] ?? (positional ? facts.categories[String(index)] : nil)
            else { continue }
            let unknown = input.categories.filter { !learned.contains($0) }
            guard !unknown.isEmpty else { continue }
            add(
                "input '\(input.name)' lists \(list(unknown)), which the encoder in \(artifact) never learned (it knows "
                    + list(learned) + ")", input.mark, "list only the categories the model was fitted on", .error)
        }
        if let classes = facts.classes, facts.classKind == "string" {
            let outputs = metadata.outputs.filter { $0.type == "categorical" && !$0.categories.isEmpty }
            if outputs.count == 1, Set(outputs[0].categories) != Set(classes) {
                let output = outputs[0]
                let never = output.categories.filter { !classes.contains($0) }
                let unlisted = classes.filter { !output.categories.contains($0) }
                var parts: [String] = []
                if !never.isEmpty { parts.append("lists \(list(never)), which \(artifact) never predicts") }
                if !unlisted.isEmpty { parts.append("does not list \(list(unlisted)), which it predicts") }
                add(
                    "output '\(output.name)' " + parts.joined(separator: ", and ") + " (its classes: " + list(classes)
                        + ")", output.mark, "list the classes the model predicts", .error)
            }
        }
    }

    /// ONNX element types as metadata's dtypes spell them.
    private static func check(
        _ graph: ONNXGraph, artifact: String, tensors: [IOSpec], _ add: (String, SourceMark?, String, Severity) -> Void
    ) {
        let byName = Dictionary(graph.inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let takes = graph.inputs.map(\.description).joined(separator: "; ")
        for input in tensors {
            guard let value = byName[input.name] else {
                add(
                    "input '\(input.name)' is not an input of \(artifact) (it takes \(takes))", input.mark,
                    "name the inputs as the graph does", .error)
                continue
            }
            if let dtype = input.dtype, !value.type.isEmpty, value.type != "?", dtype != value.type {
                add(
                    "input '\(input.name)' is \(dtype), but \(artifact) takes \(value.description)", input.mark,
                    "give dtype: \(value.type)", .error)
            }
            // The graph's dimensions after the first (the batch), where both say a number.
            if let shape = input.shape, value.dims.count == shape.count + 1 {
                for (declared, dim) in zip(shape, value.dims.dropFirst()) {
                    guard let declared, let fixed = Int(dim), declared != -1, declared != fixed else { continue }
                    add(
                        "input '\(input.name)' has shape [\(shape.map { $0.map(String.init) ?? "null" }.joined(separator: ", "))], but \(artifact) takes \(value.description)",
                        input.mark, "give the shape of a row as the graph has it", .error)
                    break
                }
            }
        }
        let declared = Set(tensors.map(\.name))
        let undeclared = graph.inputs.map(\.name).filter { !declared.contains($0) }
        if !undeclared.isEmpty, tensors.contains(where: { byName[$0.name] != nil }) {
            add(
                "\(artifact) also takes \(list(undeclared)), which metadata.yaml's inputs do not declare",
                tensors[0].mark, "declare every input of the graph", .error)
        }
    }
}
