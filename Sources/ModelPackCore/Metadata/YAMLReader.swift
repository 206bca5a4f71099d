internal import CYAML

/// Why a YAML document was refused, at a 1-based position.
package struct YAMLError: Error, Equatable, CustomStringConvertible {
    package enum Kind: Sendable { case syntax, duplicateKey, limit }
    package let mark: SourceMark
    package let message: String
    package var kind: Kind = .syntax
    package var description: String { "\(mark): \(message)" }
}

/// Reads one YAML document into `YAMLNode`s through libyaml's event parser. Keeps every node's
/// position, refuses duplicate keys, several documents, and anything past `YAMLLimits` (size,
/// nesting depth, nodes after alias expansion), so a "billion laughs" file fails fast.
package enum YAMLReader {
    package static func parse(_ bytes: [UInt8], limits: YAMLLimits) throws -> YAMLNode? {
        guard bytes.count <= limits.maxBytes else {
            throw YAMLError(
                mark: SourceMark(line: 1, column: 1),
                message:
                    "document is larger than \(limits.maxBytes) bytes (raise the limit with \(CommandFlag.maxYamlSize))",
                kind: .limit)
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw YAMLError(mark: SourceMark(line: 1, column: 1), message: "libyaml could not start")
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { buffer in
            // libyaml points into `buffer` while parsing; it stays alive for this whole closure.
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var composer = Composer(limits: limits)
            return try composer.run(&parser)
        }
    }
}

private struct Composer {
    let limits: YAMLLimits
    var anchors: [String: YAMLNode] = [:]
    var depth = 0

    init(limits: YAMLLimits) { self.limits = limits }

    static func mark(_ m: yaml_mark_t) -> SourceMark {
        SourceMark(line: Int(m.line) + 1, column: Int(m.column) + 1)
    }

    mutating func run(_ parser: inout yaml_parser_t) throws -> YAMLNode? {
        var root: YAMLNode?
        var documents = 0
        while true {
            var event = try next(&parser)
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw YAMLError(mark: Self.mark(event.start_mark), message: "only one YAML document is allowed")
                }
            case YAML_DOCUMENT_END_EVENT, YAML_STREAM_START_EVENT:
                continue
            default:
                root = try node(from: &event, &parser)
            }
        }
    }

    func next(_ parser: inout yaml_parser_t) throws -> yaml_event_t {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) != 0 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
            let context = parser.context.map { String(cString: $0) + ": " } ?? ""
            throw YAMLError(mark: Self.mark(parser.problem_mark), message: context + problem)
        }
        return event
    }

    mutating func node(from event: inout yaml_event_t, _ parser: inout yaml_parser_t) throws -> YAMLNode {
        let mark = Self.mark(event.start_mark)
        switch event.type {
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            guard let target = anchors[name] else {
                throw YAMLError(mark: mark, message: "unknown alias '*\(name)'")
            }
            return YAMLNode(value: target.value, mark: mark, weight: target.weight)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let quoted = s.style != YAML_PLAIN_SCALAR_STYLE
            let result = YAMLNode(value: .scalar(text, quoted: quoted), mark: mark, weight: 1)
            remember(s.anchor, result)
            return result
        case YAML_SEQUENCE_START_EVENT:
            let anchor = event.data.sequence_start.anchor.map { String(cString: $0) }
            try enter(mark)
            defer { depth -= 1 }
            var items: [YAMLNode] = []
            var weight = 1
            while true {
                var child = try next(&parser)
                defer { yaml_event_delete(&child) }
                if child.type == YAML_SEQUENCE_END_EVENT { break }
                let item = try node(from: &child, &parser)
                weight = try add(weight, item.weight, at: item.mark)
                items.append(item)
            }
            let result = YAMLNode(value: .sequence(items), mark: mark, weight: weight)
            if let anchor { anchors[anchor] = result }
            return result
        case YAML_MAPPING_START_EVENT:
            let anchor = event.data.mapping_start.anchor.map { String(cString: $0) }
            try enter(mark)
            defer { depth -= 1 }
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var seen: [String: SourceMark] = [:]
            var weight = 1
            while true {
                var keyEvent = try next(&parser)
                defer { yaml_event_delete(&keyEvent) }
                if keyEvent.type == YAML_MAPPING_END_EVENT { break }
                let key = try node(from: &keyEvent, &parser)
                if let text = key.scalar {
                    if let first = seen[text] {
                        throw YAMLError(
                            mark: key.mark, message: "duplicate key '\(text)' (first defined at \(first))",
                            kind: .duplicateKey)
                    }
                    seen[text] = key.mark
                }
                var valueEvent = try next(&parser)
                defer { yaml_event_delete(&valueEvent) }
                let value = try node(from: &valueEvent, &parser)
                weight = try add(weight, key.weight + value.weight, at: value.mark)
                pairs.append((key, value))
            }
            let result = YAMLNode(value: .mapping(pairs), mark: mark, weight: weight)
            if let anchor { anchors[anchor] = result }
            return result
        default:
            throw YAMLError(mark: mark, message: "unexpected YAML event")
        }
    }

    mutating func remember(_ anchor: UnsafeMutablePointer<yaml_char_t>?, _ node: YAMLNode) {
        if let anchor { anchors[String(cString: anchor)] = node }
    }

    mutating func enter(_ mark: SourceMark) throws {
        depth += 1
        if depth > limits.maxDepth {
            throw YAMLError(
                mark: mark,
                message:
                    "nesting is deeper than \(limits.maxDepth) levels (raise the limit with \(CommandFlag.maxYamlDepth))",
                kind: .limit)
        }
    }

    func add(_ a: Int, _ b: Int, at mark: SourceMark) throws -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow || sum > limits.maxNodes {
            throw YAMLError(
                mark: mark,
                message:
                    "document expands to more than \(limits.maxNodes) nodes (alias expansion bomb? raise the limit with \(CommandFlag.maxYamlNodes))",
                kind: .limit)
        }
        return sum
    }
}
