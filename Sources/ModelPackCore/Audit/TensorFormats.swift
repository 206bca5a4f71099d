import Foundation

/// A problem found in an artifact, for the audit to turn into a diagnostic.
struct AuditIssue: Error {
    let code: DiagnosticCode
    let message: String
}

/// Readers for the tensor container formats: what a user wants to see, and the checks the
/// reference implementations make. All stream their input and bound what they keep.
/// One tensor of a weights file: its name, element type (as the format spells it) and shape.
package struct TensorInfo: Codable, Equatable, Sendable {
    package let name: String
    package let dtype: String
    package let shape: [Int64]
}

/// The tensors a weights file holds, and the key of the checkpoint entry that holds them when the
/// file wraps them (`{"epoch": 3, "state_dict": {...}}`).
package struct Weights: Codable, Equatable, Sendable {
    package let tensors: [TensorInfo]
    package var within: String? = nil
}

enum TensorFormats {
    // MARK: numpy .npy

    struct NPYHeader {
        /// The dtype as the header spells it (a string, or the field list's source).
        let descr: String
        let fortranOrder: Bool
        let shape: [Int64]
        /// Whether the dtype holds Python objects (any field, any spelling); nil when it is not a
        /// description the audit understands.
        let hasObject: Bool?
    }

    /// `\x93NUMPY`, version, header length (u16 in 1.0, u32 in 2.0/3.0), then a Python dict
    /// literal with `descr`, `fortran_order` and `shape`, read as numpy reads it (`safe_eval`).
    static func readNPY(_ reader: ByteReader) throws -> Result<NPYHeader, AuditIssue> {
        _ = try reader.bytes(6)
        let major = try reader.byte()
        _ = try reader.byte()
        let length = major == 1 ? try reader.uint(2) : try reader.uint(4)
        guard length <= 100_000 else {
            return .failure(
                AuditIssue(code: .invalidHeader, message: "npy header of \(length) bytes (numpy caps it at 10000)"))
        }
        let bytes = try reader.bytes(Int64(length), keepingAtMost: 100_000)
        // Version 1 and 2 headers are latin-1, version 3 UTF-8.
        let text =
            major >= 3
            ? String(decoding: bytes, as: UTF8.self)
            : String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        guard let header = PythonLiteral.parse(text), case .dict = header else {
            return .failure(AuditIssue(code: .invalidHeader, message: "the npy header is not a Python dict literal"))
        }
        guard let descr = header["descr"], case .tuple(let dims)? = header["shape"] else {
            return .failure(AuditIssue(code: .invalidHeader, message: "npy header without descr or shape"))
        }
        var shape: [Int64] = []
        for dim in dims {
            guard case .int(let n) = dim, n >= 0 else {
                return .failure(AuditIssue(code: .invalidHeader, message: "npy shape is not a tuple of sizes"))
            }
            shape.append(n)
        }
        let shown: String
        if case .string(let s) = descr { shown = s } else { shown = Self.describe(descr) }
        return .success(
            NPYHeader(
                descr: shown, fortranOrder: header["fortran_order"] == .bool(true), shape: shape,
                hasObject: NumpyDescr.hasObject(descr)))
    }

    /// A dtype description as Python would print it (short: for the inspect table).
    static func describe(_ value: PythonLiteral) -> String {
        switch value {
        case .string(let s): return "'\(s)'"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let items):
            return "(" + items.map(describe).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.map(describe).joined(separator: ", ") + "]"
        case .dict(let pairs):
            return "{" + pairs.map { describe($0.0) + ": " + describe($0.1) }.joined(separator: ", ") + "}"
        }
    }

    // MARK: safetensors

    static let safetensorsBits: [String: Int64] = [
        "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
        "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64,
        "I64": 64, "U64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    ]

    /// The checks of the safetensors crate: header size, JSON, dtypes, shape × dtype = byte span,
    /// spans sorted and contiguous from 0 with no gap or overlap, and the file ending exactly there.
    static func readSafetensors(_ reader: ByteReader, size: Int64) throws -> (
        details: [(String, String)], issues: [AuditIssue], tensors: [TensorInfo]
    ) {
        let declared = try reader.uint(8)
        guard let n = Int64(exactly: declared), n <= 100_000_000, n + 8 <= size else {
            return (
                [],
                [
                    AuditIssue(
                        code: .invalidHeader,
                        message: "header length \(declared) is over the 100 MB limit or past the end of the file")
                ],
                []
            )
        }
        let headerBytes = try reader.bytes(n, keepingAtMost: Int(n))
        guard let json = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            return ([], [AuditIssue(code: .invalidHeader, message: "the header is not a JSON object")], [])
        }
        var issues: [AuditIssue] = []
        var spans: [(name: String, begin: Int64, end: Int64)] = []
        var tensors: [(begin: Int64, tensor: TensorInfo)] = []
        var dtypes: [String: Int] = [:]
        var parameters: Int64 = 0
        var metadata: [String: Any] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                if let m = value as? [String: Any], m.values.allSatisfy({ $0 is String }) {
                    metadata = m
                } else {
                    issues.append(AuditIssue(code: .invalidHeader, message: "__metadata__ must map strings to strings"))
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Any], let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                let begin = (offsets[0] as? NSNumber)?.int64Value, let end = (offsets[1] as? NSNumber)?.int64Value
            else {
                issues.append(
                    AuditIssue(code: .invalidHeader, message: "tensor '\(name)' lacks dtype, shape or data_offsets"))
                continue
            }
            guard let bits = safetensorsBits[dtype] else {
                issues.append(AuditIssue(code: .invalidHeader, message: "tensor '\(name)' has unknown dtype \(dtype)"))
                continue
            }
            var count: Int64 = 1
            var overflow = false
            for d in shape {
                guard let dim = (d as? NSNumber)?.int64Value, dim >= 0 else { overflow = true; break }
                let (p, o) = count.multipliedReportingOverflow(by: dim)
                if o { overflow = true; break }
                count = p
            }
            let (totalBits, o2) = count.multipliedReportingOverflow(by: bits)
            if overflow || o2 || totalBits % 8 != 0 {
                issues.append(
                    AuditIssue(
                        code: .invalidHeader, message: "tensor '\(name)': shape × dtype overflows or is not whole bytes"
                    ))
                continue
            }
            if begin < 0 || end < begin {
                issues.append(
                    AuditIssue(
                        code: .invalidHeader, message: "tensor '\(name)': data_offsets [\(begin), \(end)] is not a span"
                    ))
                continue
            }
            if end - begin != totalBits / 8 {
                issues.append(
                    AuditIssue(
                        code: .invalidHeader,
                        message:
                            "tensor '\(name)': data_offsets [\(begin), \(end)] span \(end - begin) bytes, shape × dtype is \(totalBits / 8)"
                    ))
            }
            spans.append((name, begin, end))
            tensors.append(
                (begin, TensorInfo(name: name, dtype: dtype, shape: shape.compactMap { ($0 as? NSNumber)?.int64Value }))
            )
            dtypes[dtype, default: 0] += 1
            let (sum, o3) = parameters.addingReportingOverflow(count)
            if o3 {
                issues.append(AuditIssue(code: .invalidHeader, message: "the parameter count overflows"))
                break
            }
            parameters = sum
        }
        spans.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.end < $1.end) }
        var expected: Int64 = 0
        for span in spans {
            if span.begin != expected {
                issues.append(
                    AuditIssue(
                        code: .invalidHeader,
                        message: span.begin < expected
                            ? "tensor '\(span.name)' overlaps the previous one"
                            : "a gap of \(span.begin - expected) bytes before tensor '\(span.name)'"))
                break
            }
            expected = span.end
        }
        if issues.isEmpty && expected > size - 8 - n {
            issues.append(
                AuditIssue(
                    code: .artifactTruncated,
                    message:
                        "the file is \(size) bytes, the header accounts for \(8 + n + expected): it is truncated"))
        } else if issues.isEmpty && expected != size - 8 - n {
            issues.append(
                AuditIssue(
                    code: .invalidHeader,
                    message:
                        "the file is \(size) bytes, the header accounts for \(8 + n + expected) (extra data: a polyglot?)"
                ))
        }
        var details: [(String, String)] = [
            ("tensors", String(spans.count)),
            ("parameters", String(parameters)),
            ("dtypes", dtypes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")),
        ]
        if !metadata.isEmpty {
            details.append(
                (
                    "metadata",
                    metadata.keys.sorted().prefix(8).map { "\($0)=\(metadata[$0] as? String ?? "")" }.joined(
                        separator: ", ")
                ))
        }
        // In the order of their data in the file (the order they were saved in).
        let ordered = tensors.sorted { ($0.begin, $0.tensor.name) < ($1.begin, $1.tensor.name) }.map(\.tensor)
        return (details, issues, ordered)
    }

    // MARK: GGUF

    /// Header, then the key/value metadata: version, tensor count, architecture and a few keys; a
    /// chat template (Jinja, run by some loaders) is flagged for review.
    static func readGGUF(_ reader: ByteReader) throws -> (details: [(String, String)], issues: [AuditIssue]) {
        _ = try reader.bytes(4)
        let version = try reader.uint(4)
        let tensors = try reader.uint(8)
        let kvCount = try reader.uint(8)
        guard (1...3).contains(version) else {
            return (
                [("version", String(version))],
                [AuditIssue(code: .invalidHeader, message: "unknown GGUF version \(version)")]
            )
        }
        guard kvCount <= 1_000_000, tensors <= 10_000_000 else {
            return (
                [],
                [AuditIssue(code: .invalidHeader, message: "implausible counts: \(kvCount) keys, \(tensors) tensors")]
            )
        }
        var details: [(String, String)] = [("version", String(version)), ("tensors", String(tensors))]
        var issues: [AuditIssue] = []
        func string() throws -> String {
            let n = try reader.uint(8)
            guard n <= 1 << 26 else { throw ByteReader.EndOfData() }
            return String(decoding: try reader.bytes(Int64(n), keepingAtMost: 4096), as: UTF8.self)
        }
        func skipValue(_ type: UInt64, depth: Int = 0) throws -> String? {
            switch type {
            case 0, 1, 7: return String(try reader.uint(1))
            case 2, 3: return String(try reader.uint(2))
            case 4, 5: return String(try reader.uint(4))
            case 6: try reader.skip(4); return nil
            case 10, 11: return String(try reader.uint(8))
            case 12: try reader.skip(8); return nil
            case 8: return try string()
            case 9:
                let elementType = try reader.uint(4)
                let count = try reader.uint(8)
                guard depth < 4, count <= 1 << 28 else { throw ByteReader.EndOfData() }
                for _ in 0..<count { _ = try skipValue(elementType, depth: depth + 1) }
                return "[\(count) items]"
            default: throw ByteReader.EndOfData()
            }
        }
        let shown = ["general.architecture", "general.name", "general.file_type", "general.quantization_version"]
        for _ in 0..<kvCount {
            let key = try string()
            let type = try reader.uint(4)
            let value = try skipValue(type)
            if shown.contains(key), let value { details.append((String(key.dropFirst(8)), value)) }
            if key.hasSuffix(".context_length"), let value { details.append(("context_length", value)) }
            if key == "tokenizer.chat_template" {
                issues.append(
                    AuditIssue(
                        code: .chatTemplate,
                        message:
                            "carries a chat template (\(value?.count ?? 0) characters of Jinja): llama.cpp-based loaders render it; review it (CVE-2024-34359)"
                    ))
            }
        }
        return (details, issues)
    }
}
