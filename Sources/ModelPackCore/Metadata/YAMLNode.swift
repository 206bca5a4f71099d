/// A YAML node with the position it started at. Scalars keep their text and whether they were
/// quoted (a quoted `"1.0"` is a string; a plain `1.0` may be read as a number by a schema).
package struct YAMLNode: Sendable {
    package indirect enum Value: Sendable {
        case scalar(String, quoted: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    package let value: Value
    package let mark: SourceMark
    /// Nodes in this subtree, counting alias expansions: bounded to stop "billion laughs".
    let weight: Int

    package var scalar: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    package var isNull: Bool {
        if case .scalar(let text, let quoted) = value {
            return !quoted && ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    /// The value under `key` in a mapping.
    package subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = value else { return nil }
        return pairs.first(where: { $0.key.scalar == key })?.value
    }
}
