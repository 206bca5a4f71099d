/// How a plain YAML scalar reads as a value (the YAML 1.2 core schema; quoted scalars are strings).
enum ScalarKind: Equatable {
    case null, bool(Bool), int(Int), float(Double), string(String)

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .float: return "number"
        case .string: return "string"
        }
    }
}

extension YAMLNode {
    /// The scalar's value under the core schema; nil for sequences and mappings.
    var scalarKind: ScalarKind? {
        guard case .scalar(let text, let quoted) = value else { return nil }
        if quoted { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let i = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .int(i) }
        let lower = text.lowercased()
        if [".inf", "+.inf"].contains(lower) { return .float(.infinity) }
        if lower == "-.inf" { return .float(-.infinity) }
        if lower == ".nan" { return .float(.nan) }
        if let d = Double(text), text.contains(where: { $0.isNumber }), !text.hasPrefix("0x") { return .float(d) }
        return .string(text)
    }

    /// What the node is, for "expected X, found Y" messages.
    var kindName: String {
        switch value {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar: return scalarKind.map { "a \($0.typeName)" } ?? "a scalar"
        }
    }

    var mappingPairs: [(key: YAMLNode, value: YAMLNode)]? {
        if case .mapping(let pairs) = value { return pairs }
        return nil
    }

    var sequenceItems: [YAMLNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    /// A string value: a quoted scalar or a plain one that does not read as another type.
    var stringValue: String? {
        if case .string(let s)? = scalarKind { return s }
        return nil
    }
}
