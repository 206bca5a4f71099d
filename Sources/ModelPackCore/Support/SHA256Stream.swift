import Crypto

/// A streaming SHA-256 that also counts the bytes it saw.
struct SHA256Stream {
    private var hasher = SHA256()
    private(set) var byteCount: Int64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        byteCount += Int64(bytes.count)
    }

    func finalizeHex() -> String {
        hasher.finalize().hexString
    }

    static func hex<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> String {
        var stream = SHA256Stream()
        let array = Array(bytes)
        array.withUnsafeBytes { stream.update($0) }
        return stream.finalizeHex()
    }
}

extension Sequence<UInt8> {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The fixed buffer every file's data flows through: one allocation per operation.
enum StreamBuffer {
    static let size = 1 << 20
}
