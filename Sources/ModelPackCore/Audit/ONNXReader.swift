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

        func end() throws -> Int64 {
            reader.offset + (try length())
        }
    }

    static func audit(_ reader: ByteReader, into audit: inout ArtifactAudit) throws {
        let p = Proto(reader)
        var opsets: [String] = []
        var inputs: [ONNXValue] = [], outputs: [ONNXValue] = []
        var nodes = 0, initializers = 0
        var locations: [String] = []
        do {
            try p.fields(until: audit.size) { f in
                switch (f.number, f.wire) {
                case (1, 0): audit.detail("ir_version", String(try p.varint()))
                case (2, 2): audit.detail("producer", try p.string())
                case (8, 2):
                    let end = try p.end()
                    var domain = "ai.onnx", version: UInt64 = 0
                    try p.fields(until: end) { g in
                        if g.number == 1, g.wire == 2 {
                            let d = try p.string(); if !d.isEmpty { domain = d }; return true
                        }
                        if g.number == 2, g.wire == 0 { version = try p.varint(); return true }
                        return false
                    }
                    opsets.append("\(domain) \(version)")
                case (7, 2):
                    let end = try p.end()
                    try p.fields(until: end) { g in
                        switch (g.number, g.wire) {
                        case (1, 2): nodes += 1; return false
                        case (5, 2):
                            initializers += 1
                            let tensorEnd = try p.end()
                            try p.fields(until: tensorEnd) { t in
                                guard t.number == 13, t.wire == 2 else { return false }
                                let entryEnd = try p.end()
                                var key = "", value = ""
                                try p.fields(until: entryEnd) { e in
                                    if e.number == 1, e.wire == 2 { key = try p.string(); return true }
                                    if e.number == 2, e.wire == 2 { value = try p.string(); return true }
                                    return false
                                }
                                if key == "location" { locations.append(value) }
                                return true
                            }
                            return true
                        case (11, 2), (12, 2):
                            let info = try valueInfo(p)
                            if g.number == 11 { inputs.append(info) } else { outputs.append(info) }
                            return true
                        default: return false
                        }
                    }
                default: return false
                }
                return true
            }
        } catch is ByteReader.EndOfData {
            audit.issue(.invalidHeader, "the ONNX protobuf is truncated or malformed")
        }
        if !opsets.isEmpty { audit.detail("opsets", opsets.joined(separator: ", ")) }
        audit.detail("inputs", inputs.map(\.description).joined(separator: "; "))
        audit.detail("outputs", outputs.map(\.description).joined(separator: "; "))
        audit.graph = ONNXGraph(inputs: inputs, outputs: outputs)
        audit.detail("nodes", String(nodes))
        audit.detail("initializers", String(initializers))
        for location in Set(locations).sorted() {
            let parts = location.split(separator: "/", omittingEmptySubsequences: false)
            if location.hasPrefix("/") || location.contains("\\") || parts.contains("..") {
                audit.issue(
                    .externalData,
                    "external data at '\(location)' escapes the model directory (CVE-2022-25882, CVE-2024-27318)")
            } else {
                audit.detail("external data", location)
            }
        }
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
public struct ONNXValue: Sendable, Equatable {
    public let name: String
    public let type: String
    public let dims: [String]
    /// `name: elem_type[dims]`, as inspect shows it.
    public var description: String { "\(name): \(type)[\(dims.joined(separator: ","))]" }
}

/// What an ONNX graph takes and gives.
public struct ONNXGraph: Sendable, Equatable {
    public let inputs: [ONNXValue]
    public let outputs: [ONNXValue]
}

/// A Keras 3 `.keras` config: the layer classes, and code that runs at load time.
enum KerasConfig {
    static func audit(_ bytes: [UInt8], into audit: inout ArtifactAudit) {
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
            audit.issue(.invalidHeader, "config.json is not JSON")
            return
        }
        var classes: [String: Int] = [:]
        func walk(_ value: Any) {
            if let dict = value as? [String: Any] {
                if let name = dict["class_name"] as? String, dict["config"] != nil {
                    classes[name, default: 0] += 1
                    if name == "Lambda" {
                        audit.issue(
                            .codeInModel,
                            "a Lambda layer: its Python code runs when the model is loaded (CVE-2024-3660)")
                    }
                    if let module = dict["module"] as? String, !module.hasPrefix("keras"), !module.isEmpty {
                        audit.issue(
                            .codeInModel,
                            "layer \(name) comes from module '\(module)', not Keras: loading imports it (CVE-2025-1550)"
                        )
                    }
                }
                dict.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(json)
        audit.detail(
            "layers", classes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
    }
}
