#if canImport(Glibc)
    import Glibc
#endif

/// What an artifact is, told by its content (never by its extension).
package enum ArtifactFormat: String, Codable, Sendable {
    case pickle, joblib
    case pytorchZip = "pytorch-zip"
    case pytorchLegacy = "pytorch-legacy"
    case npy, npz, safetensors, onnx, gguf, keras, hdf5
    case savedModel = "tensorflow-savedmodel"
    case zip, json, csv, text, empty, binary
    case sevenZip = "7z"

    /// File name endings that say the file is a pickle (or holds pickles): an unread one is an
    /// error whatever the code that loads it says.
    static let pickleExtensions: Set<String> = [
        "pkl", "pickle", "joblib", "pt", "pth", "ckpt", "npy", "npz", "dill", "sav",
    ]

    static func namesAPickle(_ path: String) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return pickleExtensions.contains(path[path.index(after: dot)...].lowercased())
    }

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
        if head.starts(with: magic.zip) || head.starts(with: magic.emptyZip) { return .zip }
        if head.starts(with: magic.npy) { return .npy }
        if head.starts(with: magic.sevenZip) { return .sevenZip }
        if head.starts(with: magic.gguf) { return .gguf }
        if head.starts(with: magic.hdf5) { return .hdf5 }
        if isSafetensors(head, size: size) { return .safetensors }
        if name == "saved_model.pb" || name.utf8.reversed().starts(with: "/saved_model.pb".utf8.reversed()) {
            return .savedModel
        }
        if isONNX(head) { return .onnx }
        // Text: the first 4 KiB (less a possibly cut last character) valid UTF-8 without NUL. Judged
        // on bytes, with memchr: every small file of a model passes here.
        let sampleCount = min(head.count, 4096) - (head.count >= 4096 ? 4 : 0)
        let text = head.withUnsafeBufferPointer { all -> ArtifactFormat? in
            let sample = UnsafeBufferPointer(rebasing: all[0..<sampleCount])
            guard sample.isEmpty || memchr(sample.baseAddress!, 0, sample.count) == nil,
                String(validating: sample, as: UTF8.self) != nil
            else { return nil }
            let first = sample.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return .json }
            if looksLikeCSV(sample) { return .csv }
            return .text
        }
        if text == .text || text == nil, isProtocol0Pickle(head) { return .pickle }
        return text ?? .binary
    }

    private static let magic = (
        zip: Array("PK\u{03}\u{04}".utf8), emptyZip: Array("PK\u{05}\u{06}".utf8), npy: [0x93] + Array("NUMPY".utf8),
        sevenZip: [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C] as [UInt8], gguf: Array("GGUF".utf8),
        hdf5: [0x89] + Array("HDF\r\n\u{1A}\n".utf8)
    )

    /// The first non-empty line holds a comma and another non-empty line follows.
    static func looksLikeCSV(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard var start = text.baseAddress else { return false }
        let end = start + text.count
        // The first non-empty line.
        while start < end, start.pointee == 0x0A { start += 1 }
        guard start < end, let found = memchr(start, 0x0A, end - start),
            memchr(start, Int32(UInt8(ascii: ",")), UnsafeRawPointer(found) - UnsafeRawPointer(start)) != nil
        else { return false }
        // Another non-empty line begins after it.
        var next = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) + 1
        while next < end, next.pointee == 0x0A { next += 1 }
        return next < end
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
        var scanner = PickleScanner(reader: ByteReader(bytes: head), limits: PickleLimits())
        let result = scanner.scanAll()
        return result.pickles >= 1 && result.opcodes >= 3
            && !result.findings.contains { $0.kind == .corrupt || $0.kind == .notPickle }
    }
}
