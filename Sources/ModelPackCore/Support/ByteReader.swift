/// Buffered, forward-only reading of a byte stream (a file or an archive entry) for the format
/// parsers: bytes, little-endian integers, newline-terminated lines and skips, all bounded, all
/// counting the offset. Memory is one fixed buffer.
final class ByteReader {
    struct EndOfData: Error {}

    /// The largest length a format may declare: no file or stream holds 2^62 bytes, and an
    /// offset plus such a length cannot overflow.
    static let maxLength: UInt64 = 1 << 62

    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var exhausted = false
    /// Bytes consumed so far.
    private(set) var offset: Int64 = 0

    init(bufferSize: Int = 1 << 20, source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.source = source
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    convenience init(bytes: [UInt8]) {
        var position = 0
        self.init(bufferSize: max(1, min(bytes.count, 1 << 20))) { out in
            let n = min(out.count, bytes.count - position)
            if n > 0 {
                bytes.withUnsafeBytes { src in
                    out.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
                }
            }
            position += n
            return n
        }
    }

    /// Makes at least `count` bytes available if the stream has them; returns what is available.
    @discardableResult
    private func fill(_ count: Int) throws -> Int {
        if end - start >= count || exhausted { return end - start }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        while end - start < count && end < buffer.count {
            let n = try buffer.withUnsafeMutableBytes { raw in
                try source(UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
            }
            if n == 0 {
                exhausted = true
                break
            }
            end += n
        }
        return end - start
    }

    var isAtEnd: Bool {
        get throws { try fill(1) == 0 }
    }

    /// Up to `count` (at most the buffer size) next bytes, without consuming them.
    func peek(_ count: Int) throws -> [UInt8] {
        let n = min(try fill(min(count, buffer.count)), count)
        return Array(buffer[start..<(start + n)])
    }

    func peekByte() throws -> UInt8? {
        try fill(1) >= 1 ? buffer[start] : nil
    }

    func byte() throws -> UInt8 {
        guard try fill(1) >= 1 else { throw EndOfData() }
        let b = buffer[start]
        start += 1
        offset += 1
        return b
    }

    /// Up to `limit` bytes are returned; a longer run is skipped (its length still counts).
    func bytes(_ count: Int64, keepingAtMost limit: Int = 1 << 16) throws -> [UInt8] {
        var out: [UInt8] = []
        var remaining = count
        while remaining > 0 {
            let available = try fill(Int(min(remaining, Int64(buffer.count))))
            guard available > 0 else { throw EndOfData() }
            let n = min(available, Int(min(remaining, Int64(Int.max))))
            if out.count < limit { out.append(contentsOf: buffer[start..<(start + min(n, limit - out.count))]) }
            start += n
            offset += Int64(n)
            remaining -= Int64(n)
        }
        return out
    }

    /// Whatever is available, up to `maxCount` bytes; empty at the end of the stream.
    func chunk(_ maxCount: Int) throws -> [UInt8] {
        let n = min(try fill(min(maxCount, buffer.count)), maxCount)
        let out = Array(buffer[start..<(start + n)])
        start += n
        offset += Int64(n)
        return out
    }

    func skip(_ count: Int64) throws {
        _ = try bytes(count, keepingAtMost: 0)
    }

    func uint(_ width: Int) throws -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(try byte()) << (8 * UInt64(i)) }
        return value
    }

    /// A line up to `\n` (not included), at most `limit` bytes.
    func line(limit: Int = 1 << 16) throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let b = try byte()
            if b == UInt8(ascii: "\n") { return out }
            out.append(b)
            if out.count > limit { throw EndOfData() }
        }
    }
}
