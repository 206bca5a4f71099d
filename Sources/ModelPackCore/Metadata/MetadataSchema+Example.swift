extension MetadataSchema {
    /// `example` is a list of rows a smoke test can send to predict(): each row a mapping from every
    /// input name to a value of that input's type.
    mutating func checkExample(_ node: YAMLNode) {
        guard let rows = node.sequenceItems, !rows.isEmpty else {
            report(
                .wrongType, "'example' must be a non-empty list of input rows, found \(node.kindName)", at: node,
                hint: "example: [{sepal_length: 5.1, ...}]")
            return
        }
        let inputs = document.inputs
        guard !inputs.isEmpty else { return }
        for row in rows {
            guard let pairs = row.mappingPairs else {
                report(
                    .exampleMismatch,
                    "an example row must be a mapping from input names to values, found \(row.kindName)", at: row)
                continue
            }
            let names = inputs.map(\.name)
            for (key, value) in pairs {
                guard let name = key.scalar, let spec = inputs.first(where: { $0.name == name }) else {
                    let near = key.scalar.flatMap { NearMiss.suggestion(for: $0, among: names) }
                    report(
                        .exampleMismatch,
                        "example has '\(key.scalar ?? "?")', which is not an input"
                            + (near.map { "; did you mean '\($0)'?" } ?? ""), at: key)
                    continue
                }
                if let problem = Self.problem(value, for: spec) {
                    report(.exampleMismatch, "example value for '\(name)' \(problem)", at: value)
                }
            }
            for spec in inputs where !pairs.contains(where: { $0.key.scalar == spec.name }) {
                report(.exampleMismatch, "example row lacks input '\(spec.name)'", at: row)
            }
        }
    }

    /// `example_outputs`: what `predict()` answers for each example row, in order (`modelpack test`
    /// compares); with one declared output, each must fit it by the same rule as an input.
    mutating func checkExampleOutputs(_ node: YAMLNode, rows: [YAMLNode]?) {
        guard let outputs = node.sequenceItems else {
            report(
                .wrongType, "'example_outputs' must be a list (one prediction per example row), found \(node.kindName)",
                at: node)
            return
        }
        guard let rows else {
            report(.exampleMismatch, "'example_outputs' without 'example': there is nothing to compare", at: node)
            return
        }
        if outputs.count != rows.count {
            report(
                .exampleMismatch,
                "'example_outputs' has \(outputs.count) predictions for \(rows.count) example rows", at: node)
        }
        guard document.outputs.count == 1, let spec = document.outputs.first else { return }
        for value in outputs {
            if let problem = Self.problem(value, for: spec) {
                report(.exampleMismatch, "example output for '\(spec.name)' \(problem)", at: value)
            }
        }
    }

    /// The one input rule (`InputFit`), on a YAML value.
    static func problem(_ value: YAMLNode, for spec: MetadataDocument.IOSpec) -> String? {
        InputFit.problem(
            value.inputValue, type: spec.type, categories: spec.categories, shape: spec.shape, dtype: spec.dtype)
    }
}
