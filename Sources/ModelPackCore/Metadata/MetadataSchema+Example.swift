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

    static func problem(_ value: YAMLNode, for spec: MetadataDocument.IOSpec) -> String? {
        let kind = value.scalarKind
        switch spec.type {
        case "float":
            switch kind {
            case .int?, .float?: return nil
            default: return "must be a number, found \(value.kindName)"
            }
        case "int":
            if case .int? = kind { return nil }
            return "must be an integer, found \(value.kindName)"
        case "bool":
            if case .bool? = kind { return nil }
            return "must be true or false, found \(value.kindName)"
        case "string":
            if case .string? = kind { return nil }
            return "must be a string, found \(value.kindName) (quote it)"
        case "categorical":
            guard case .scalar(let text, _) = value.value else {
                return "must be one of the categories, found \(value.kindName)"
            }
            return spec.categories.isEmpty || spec.categories.contains(text)
                ? nil : "'\(text)' is not one of \(spec.categories.joined(separator: ", "))"
        case "tensor":
            guard value.sequenceItems != nil else { return "must be a (nested) list, found \(value.kindName)" }
            if let shape = spec.shape {
                let dims = Self.dimensions(value)
                if dims.count != shape.count {
                    return "has \(dims.count) dimensions, the shape has \(shape.count)"
                }
                for (i, (have, want)) in zip(dims, shape).enumerated() {
                    if let want, want != have { return "has \(have) at dimension \(i), the shape says \(want)" }
                }
            }
            return nil
        default:
            return nil
        }
    }

    /// The extents of a nested list, following first elements.
    static func dimensions(_ node: YAMLNode) -> [Int] {
        var dims: [Int] = []
        var current = node
        while let items = current.sequenceItems {
            dims.append(items.count)
            guard let first = items.first else { break }
            current = first
        }
        return dims
    }
}
