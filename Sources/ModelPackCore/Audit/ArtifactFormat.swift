/// What an artifact is, told by its content (never by its extension).
public enum ArtifactFormat: String, Codable, Sendable {
    case pickle, joblib
    case pytorchZip = "pytorch-zip"
    case pytorchLegacy = "pytorch-legacy"
    case npy, npz, safetensors, onnx, gguf, keras, hdf5
    case savedModel = "tensorflow-savedmodel"
    case zip, json, csv, text, empty, binary
    case sevenZip = "7z"

    /// The legacy torch.save magic number, pickled: PROTO 2, LONG1 of 0x1950a86a20f9469cfc6c, STOP.
    static let legacyTorchMagic: [UInt8] = [
        0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
    ]

    /// Detects the format from the first bytes (up to 4 KiB) and the size. `name` is used for one
    /// format only: a SavedModel is a directory whose graph is `saved_model.pb` (protobuf has no
    /// magic number to tell it from other protobuf files).
    static func detect(head: [UInt8], size: Int64, name: String) -> ArtifactFormat {
        if size == 0 { return .empty }
        if head.starts(with: legacyTorchMagic) { return .pytorchLegacy }
        if head.starts(with: [0x80]), head.count > 1, head[1] <= 5 { return .pickle }
        if head.starts(with: Array("PK\u{03}\u{04}".utf8)) || head.starts(with: Array("PK\u{05}\u{06}".utf8)) {
            return .zip
        }
        if head.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
        if head.starts(with: [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return .sevenZip }
        if head.starts(with: Array("GGUF".utf8)) { return .gguf }
        if head.starts(with: [0x89] + Array("HDF\r\n\u{1A}\n".utf8)) { return .hdf5 }
        if isSafetensors(head, size: size) { return .safetensors }
        if FileSystem.lastComponent(of: name) == "saved_model.pb" { return .savedModel }
        if isONNX(head) { return .onnx }
        // Text: the first 4 KiB (less a possibly cut last character) valid UTF-8 without NUL. Judged
        // on bytes: Foundation's string search here cost 5,000 small files a quarter of a build.
        let sample = head.prefix(4096).dropLast(head.count == 4096 ? 4 : 0)
        if !sample.contains(0), String(validating: sample, as: UTF8.self) != nil {
            let first = sample.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return .json }
            if looksLikeCSV(sample) { return .csv }
            if isProtocol0Pickle(head) { return .pickle }
            return .text
        }
        if isProtocol0Pickle(head) { return .pickle }
        return .binary
    }

    /// The first non-empty line holds a comma and another non-empty line follows.
    static func looksLikeCSV(_ text: ArraySlice<UInt8>) -> Bool {
        var lines = 0
        var inLine = false
        var commaInFirst = false
        for byte in text {
            if byte == 0x0A {
                if inLine { lines += 1 }
                inLine = false
            } else {
                if lines == 1 { return commaInFirst }  // a second non-empty line begins
                inLine = true
                if byte == UInt8(ascii: ",") { commaInFirst = true }
            }
        }
        return false
    }

    /// u64 header length, then a JSON object: the safetensors layout.
    static func isSafetensors(_ head: [UInt8], size: Int64) -> Bool {
        guard head.count >= 9 else { return false }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(head[i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= 100_000_000, Int64(n) + 8 <= size else { return false }
        let first = head[8...].first { $0 != 0x20 }
        return first == UInt8(ascii: "{")
    }

    /// ModelProto starts with ir_version (field 1, varint) and continues with a known field.
    static func isONNX(_ head: [UInt8]) -> Bool {
        guard head.count >= 3, head[0] == 0x08, (1...20).contains(head[1]) else { return false }
        return [0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x42].contains(head[2])
    }

    /// A protocol 0/1 pickle: a GLOBAL line pair or a container opcode followed by pickle opcodes.
    static func isProtocol0Pickle(_ head: [UInt8]) -> Bool {
        guard let first = head.first, "(cdl]}IS".utf8.contains(first), head.contains(UInt8(ascii: ".")) else {
            return false
        }
        var scanner = PickleScanner(reader: ByteReader(bytes: head))
        let result = scanner.scanAll()
        return result.pickles >= 1 && result.opcodes >= 3
            && !result.findings.contains { $0.kind == .corrupt || $0.kind == .notPickle }
    }
}
