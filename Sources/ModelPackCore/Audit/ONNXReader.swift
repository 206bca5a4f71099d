import Foundation

/// Reads an ONNX ModelProto as a protobuf stream, skipping tensor data: IR version, producer,
/// opsets, graph inputs and outputs with types and shapes, node and initializer counts, and every
/// external-data location (one that escapes the bundle is a finding: CVE-2022-25882, CVE-2024-27318).
enum ONNXReader {
    struct Field {
        let number: UInt64
        let wire: UInt64
    }

    static let elementTypes = [
        1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
        8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
        14: "complex64", 15: "complex128", 16: "bfloat16",
    ]

    final class Proto {
        let reader: ByteReader
        init(_ reader: ByteReader) { self.reader = reader }

        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                let b = try reader.byte()
                value |= UInt64(b & 0x7f) << UInt64(shift)
                if b & 0x80 == 0 { return value }
            }
            throw ByteReader.EndOfData()
        }

        /// Reads fields until `end` (an offset), calling `body` for each; `body` consumes or skips the value.
        func fields(until end: Int64, _ body: (Field) throws -> Bool) throws {
            while reader.offset < end {
                let key = try varint()
                let field = Field(number: key >> 3, wire: key & 7)
                if try !body(field) { try skip(field) }
            }
        }

        func skip(_ field: Field) throws {
            switch field.wire {
            case 0: _ = try varint()
            case 1: try reader.skip(8)
            case 2: try reader.skip(try length())
            case 5: try reader.skip(4)
            default: throw ByteReader.EndOfData()
            }
        }

        /// A length-delimited field's length; one past `ByteReader.maxLength` is malformed.
        func length() throws -> Int64 {
            let n = try varint()
            guard n < ByteReader.maxLength else { throw ByteReader.EndOfData() }
            return Int64(n)
        }

        func string() throws -> String {
            String(decoding: try reader.bytes(try length(), keepingAtMost: 4096), as: UTF8.self)
        }

        /// Where a length-delimited field ends: the length is read first, then the offset after it.
        func end() throws -> Int64 {
            let n = try length()
            return reader.offset + n
        }

        /// A length-delimited sub-message: its fields (as `fields`), which must end exactly where
        /// its length says.
        func message(_ body: (Field) throws -> Bool) throws {
            let end = try end()
            try fields(until: end, body)
            guard reader.offset == end else { throw ByteReader.EndOfData() }
        }
    }

    /// How deep graphs nest (If/Loop/Scan bodies, functions) before the model is refused.
    static let maxDepth = 32

    struct TooDeep: Error {}

    /// What the walk collects: every external-data location of every tensor, wherever it is.
    struct Walk {
        var locations: [String] = []
    }

    static func audit(_ reader: ByteReader, into audit: inout ArtifactAudit) throws {
        let p = Proto(reader)
        var opsets: [String] = []
        var irVersion: Int?
        var opsetVersions: [String: Int] = [:]
        var inputs: [ONNXValue] = [], outputs: [ONNXValue] = []
        var nodes = 0, initializers = 0
        var walk = Walk()
        // Before IR 4 every initializer was also listed among the graph's inputs: stored
        // weights, not what a caller gives (onnx's IR.md, "Graphs").
        var initializerNames: Set<String> = []
        do {
            try p.fields(until: audit.size) { f in
                switch (f.number, f.wire) {
                case (1, 0):
                    let version = try p.varint()
                    irVersion = Int(clamping: version)
                    audit.detail("ir_version", String(version))
                case (2, 2): audit.detail("producer", try p.string())
                case (8, 2):
                    var domain = "ai.onnx", version: UInt64 = 0
                    try p.message { g in
                        if g.number == 1, g.wire == 2 {
                            let d = try p.string(); if !d.isEmpty { domain = d }; return true
                        }
                        if g.number == 2, g.wire == 0 { version = try p.varint(); return true }
                        return false
                    }
                    opsets.append("\(domain) \(version)")
                    opsetVersions[domain] = max(opsetVersions[domain] ?? 0, Int(clamping: version))
                case (7, 2):
                    try p.message { g in
                        switch (g.number, g.wire) {
                        case (1, 2):
                            nodes += 1
                            try node(p, depth: 1, &walk)
                        case (5, 2):
                            initializers += 1
                            if let name = try tensor(p, &walk) { initializerNames.insert(name) }
                        case (15, 2):
                            initializers += 1
                            if let name = try sparseTensor(p, &walk) { initializerNames.insert(name) }
                        case (11, 2), (12, 2):
                            let info = try valueInfo(p)
                            if g.number == 11 { inputs.append(info) } else { outputs.append(info) }
                        default: return false
                        }
                        return true
                    }
                case (20, 2):  // TrainingInfoProto: initialization and algorithm graphs
                    try p.message { t in
                        guard t.number == 1 || t.number == 2, t.wire == 2 else { return false }
                        try graph(p, depth: 1, &walk)
                        return true
                    }
                case (25, 2):  // FunctionProto: model-local functions
                    try p.message { fn in
                        guard fn.number == 7, fn.wire == 2 else { return false }
                        try node(p, depth: 1, &walk)
                        return true
                    }
                default: return false
                }
                return true
            }
        } catch is ByteReader.EndOfData {
            audit.issue(.invalidHeader, "the ONNX protobuf is truncated or malformed")
        } catch is TooDeep {
            audit.issue(.invalidHeader, "the ONNX graphs nest more than \(maxDepth) deep; not read further")
        }
        if !opsets.isEmpty { audit.detail("opsets", opsets.joined(separator: ", ")) }
        let stored = inputs.filter { initializerNames.contains($0.name) }.count
        inputs.removeAll { initializerNames.contains($0.name) }
        audit.detail("inputs", inputs.map(\.description).joined(separator: "; "))
        if stored > 0 { audit.detail("initializers among inputs", String(stored)) }
        audit.detail("outputs", outputs.map(\.description).joined(separator: "; "))
        audit.graph = ONNXGraph(inputs: inputs, outputs: outputs, irVersion: irVersion, opsets: opsetVersions)
        audit.detail("nodes", String(nodes))
        audit.detail("initializers", String(initializers))
        for location in Set(walk.locations).sorted() {
            if escapes(location) {
                audit.issue(
                    .externalData,
                    "external data at '\(location)' escapes the model directory (CVE-2022-25882, CVE-2024-27318)")
            } else {
                audit.detail("external data", location)
            }
        }
    }

    /// Whether an external-data location reaches outside the model's directory, as onnx resolves
    /// it (joined to the model's directory): absolute, a drive, a backslash or a `..` component.
    static func escapes(_ location: String) -> Bool {
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        let drive = location.count >= 2 && location.dropFirst().first == ":"
        return location.hasPrefix("/") || location.contains("\\") || drive || parts.contains("..")
            || location.isEmpty
    }

    /// GraphProto: its nodes, initializers and sparse initializers (inputs and outputs of a
    /// subgraph are not the model's).
    static func graph(_ p: Proto, depth: Int, _ walk: inout Walk) throws {
        guard depth <= maxDepth else { throw TooDeep() }
        try p.message { g in
            switch (g.number, g.wire) {
            case (1, 2): try node(p, depth: depth, &walk)
            case (5, 2): try tensor(p, &walk)
            case (15, 2): try sparseTensor(p, &walk)
            default: return false
            }
            return true
        }
    }

    /// NodeProto: its attributes, which carry tensors (Constant's value) and subgraphs (If, Loop, Scan).
    static func node(_ p: Proto, depth: Int, _ walk: inout Walk) throws {
        try p.message { n in
            guard n.number == 5, n.wire == 2 else { return false }
            try p.message { a in
                switch (a.number, a.wire) {
                case (5, 2), (10, 2): try tensor(p, &walk)  // t, tensors
                case (6, 2), (11, 2): try graph(p, depth: depth + 1, &walk)  // g, graphs
                case (22, 2), (23, 2): try sparseTensor(p, &walk)  // sparse_tensor, sparse_tensors
                default: return false
                }
                return true
            }
            return true
        }
    }

    /// SparseTensorProto: its values and indices tensors; its name is its values tensor's.
    @discardableResult
    static func sparseTensor(_ p: Proto, _ walk: inout Walk) throws -> String? {
        var name: String?
        try p.message { s in
            guard s.number == 1 || s.number == 2, s.wire == 2 else { return false }
            let tensorName = try tensor(p, &walk)
            if s.number == 1 { name = tensorName }
            return true
        }
        return name
    }

    /// TensorProto: the `location` of its external data (field 13, key/value entries); returns
    /// its name (field 8).
    @discardableResult
    static func tensor(_ p: Proto, _ walk: inout Walk) throws -> String? {
        var name: String?
        try p.message { t in
            if t.number == 8, t.wire == 2 {
                name = try p.string()
                return true
            }
            guard t.number == 13, t.wire == 2 else { return false }
            var key = "", value = ""
            try p.message { e in
                if e.number == 1, e.wire == 2 { key = try p.string(); return true }
                if e.number == 2, e.wire == 2 { value = try p.string(); return true }
                return false
            }
            if key == "location" { walk.locations.append(value) }
            return true
        }
        return name
    }

    /// The name, element type and dimensions of a ValueInfoProto.
    static func valueInfo(_ p: Proto) throws -> ONNXValue {
        let end = try p.end()
        var name = "?", type = "", dims: [String] = []
        try p.fields(until: end) { f in
            if f.number == 1, f.wire == 2 { name = try p.string(); return true }
            guard f.number == 2, f.wire == 2 else { return false }
            let typeEnd = try p.end()
            try p.fields(until: typeEnd) { t in
                guard t.number == 1, t.wire == 2 else { return false }
                let tensorEnd = try p.end()
                try p.fields(until: tensorEnd) { x in
                    if x.number == 1, x.wire == 0 {
                        type = Int(exactly: try p.varint()).flatMap { elementTypes[$0] } ?? "?"
                        return true
                    }
                    guard x.number == 2, x.wire == 2 else { return false }
                    let shapeEnd = try p.end()
                    try p.fields(until: shapeEnd) { s in
                        guard s.number == 1, s.wire == 2 else { return false }
                        let dimEnd = try p.end()
                        var dim = "?"
                        try p.fields(until: dimEnd) { d in
                            if d.number == 1, d.wire == 0 { dim = String(try p.varint()); return true }
                            if d.number == 2, d.wire == 2 { dim = try p.string(); return true }
                            return false
                        }
                        dims.append(dim)
                        return true
                    }
                    return true
                }
                return true
            }
            return true
        }
        return ONNXValue(name: name, type: type, dims: dims)
    }
}

/// A graph input or output: `type` is an element type ("float32", "?" when unknown, "" when the
/// value is not a tensor: a sequence or a map), `dims` each a size or a symbolic name ("?" when
/// unnamed).
package struct ONNXValue: Sendable, Equatable {
    package let name: String
    package let type: String
    package let dims: [String]
    /// `name: elem_type[dims]`, as inspect shows it.
    package var description: String { "\(name): \(type)[\(dims.joined(separator: ","))]" }
}

/// What an ONNX graph takes and gives.
package struct ONNXGraph: Sendable, Equatable {
    package let inputs: [ONNXValue]
    package let outputs: [ONNXValue]
    /// The model's IR version and the opset it imports per domain (`ai.onnx` for the default).
    package var irVersion: Int? = nil
    package var opsets: [String: Int] = [:]
}

/// A Keras 3 `.keras` config, walked whole as Keras' safe mode judges it: layer classes, and every
/// object in it that makes loading run or read something: a `Lambda` layer (CVE-2024-3660), a
/// serialized Python lambda (`__lambda__`) anywhere, even as an activation; an object or function
/// from a module outside Keras (CVE-2025-1550); a function from Keras outside its pure math
/// (`keras.utils.get_file` downloads and writes, CVE-2025-8747); a lookup layer whose vocabulary
/// is a file path (read when loaded, CVE-2025-12058).
enum KerasConfig {
    /// Modules whose functions a config may name: activations, losses, metrics and ops compute on
    /// tensors and touch nothing else.
    static let functionModules = [
        "keras.activations", "keras.src.activations", "keras.losses", "keras.src.losses", "keras.metrics",
        "keras.src.metrics", "keras.ops", "keras.src.ops", "keras.initializers", "keras.src.initializers",
        "keras.regularizers", "keras.src.regularizers",
    ]

    /// Layers that read their vocabulary from a file when it is given as a path.
    static let lookupLayers: Set<String> = ["StringLookup", "IntegerLookup", "TextVectorization"]

    static let maxDepth = 256

    static func audit(_ bytes: [UInt8], into audit: inout ArtifactAudit) {
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
            audit.issue(.invalidHeader, "config.json is not JSON")
            return
        }
        var classes: [String: Int] = [:]
        var tooDeep = false
        func walk(_ value: Any, depth: Int) {
            guard depth < maxDepth else {
                tooDeep = true
                return
            }
            if let dict = value as? [String: Any] {
                judge(dict, classes: &classes, into: &audit)
                dict.values.forEach { walk($0, depth: depth + 1) }
            } else if let array = value as? [Any] {
                array.forEach { walk($0, depth: depth + 1) }
            }
        }
        walk(json, depth: 0)
        if tooDeep { audit.notRead("config.json nests more than \(maxDepth) deep") }
        audit.detail(
            "layers", classes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
    }

    /// One object of the config (a dict with `class_name`).
    private static func judge(_ dict: [String: Any], classes: inout [String: Int], into audit: inout ArtifactAudit) {
        guard let name = dict["class_name"] as? String else { return }
        let module = dict["module"] as? String ?? ""
        let config = dict["config"]
        if name == "__lambda__" {
            audit.issue(
                .codeInModel, "a serialized Python lambda (__lambda__): its bytecode runs when the model is loaded")
            return
        }
        if name == "function" {
            let function = (config as? String) ?? "?"
            if !functionModules.contains(where: { module == $0 || module.hasPrefix($0 + ".") }) {
                audit.issue(
                    .codeInModel,
                    "refers to function \(function) of module '\(module)': loading calls it (only Keras' activations, losses, metrics and ops are pure; CVE-2025-8747)"
                )
            }
            return
        }
        guard config != nil else { return }
        classes[name, default: 0] += 1
        if name == "Lambda" {
            audit.issue(.codeInModel, "a Lambda layer: its Python code runs when the model is loaded (CVE-2024-3660)")
        }
        if !module.isEmpty, module != "keras", !module.hasPrefix("keras.") {
            audit.issue(
                .codeInModel,
                "layer \(name) comes from module '\(module)', not Keras: loading imports it (CVE-2025-1550)")
        }
        if lookupLayers.contains(name), let settings = config as? [String: Any],
            let vocabulary = settings["vocabulary"] as? String
        {
            audit.issue(
                .externalData,
                "layer \(name) reads its vocabulary from the file '\(vocabulary)' when the model is loaded (CVE-2025-12058)"
            )
        }
    }
}
