import Foundation

/// What the runtime needs, as JSON (the runtime then needs no YAML parser): from metadata.yaml
/// the name, version, inputs, outputs and the example; and the run's limits, which the Python
/// bundle reader holds bundles to on Spark and Ray executors as the Swift one does.
enum ServingDescription {
    static func json(fromMetadata bytes: [UInt8], limits: Limits) throws -> [UInt8] {
        guard let root = try YAMLReader.parse(bytes, limits: limits.yaml) else {
            throw ModelPackError.invalidModel(path: ModelDirectory.metadataFile, reason: "empty")
        }
        var out: [String: Any] = [:]
        for key in [
            "name", "version", "description", "inputs", "outputs", "example", "example_outputs", "framework",
            "resources",
        ] {
            if let node = root[key] { out[key] = node.jsonValue }
        }
        // Categories as text, the way InputFit and the runtime's check compare them.
        if let inputs = root["inputs"]?.sequenceItems {
            out["inputs"] = inputs.map { input -> Any in
                guard var entry = input.jsonValue as? [String: Any] else { return input.jsonValue }
                if let categories = input["categories"]?.sequenceItems {
                    entry["categories"] = categories.map { $0.scalar ?? "" }
                }
                return entry
            }
        }
        out["name"] = root["name"]?.scalar ?? "model"
        out["version"] = root["version"]?.scalar ?? "0"
        if out["inputs"] == nil { out["inputs"] = [Any]() }
        out["limits"] = [
            "maxEntries": limits.unpack.maxEntries, "maxTotalSize": limits.unpack.maxTotalSize,
            "maxRatio": limits.unpack.maxRatio, "ratioFloor": limits.unpack.ratioFloor,
            "maxPathBytes": limits.unpack.maxPathBytes,
        ]
        let data = try JSONSerialization.data(
            withJSONObject: out, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return Array(data) + [0x0a]
    }
}

extension YAMLNode {
    /// The node as a JSON-compatible value, scalars typed by the YAML core schema.
    var jsonValue: Any {
        switch value {
        case .sequence(let items): return items.map(\.jsonValue)
        case .mapping(let pairs):
            var dict: [String: Any] = [:]
            for (k, v) in pairs { dict[k.scalar ?? "?"] = v.jsonValue }
            return dict
        case .scalar:
            switch scalarKind {
            case .null?: return NSNull()
            case .bool(let b)?: return b
            case .int(let i)?: return i
            case .float(let d)?: return d.isFinite ? d : NSNull()
            case .string(let s)?: return s
            case nil: return NSNull()
            }
        }
    }
}
