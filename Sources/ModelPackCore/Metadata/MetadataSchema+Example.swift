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

    /// The one input rule (`InputFit`), on a YAML value.
    static func problem(_ value: YAMLNode, for spec: MetadataDocument.IOSpec) -> String? {
        InputFit.problem(
            value.inputValue, type: spec.type, categories: spec.categories, shape: spec.shape, dtype: spec.dtype)
    }
}
