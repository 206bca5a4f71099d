import CZlib
import Foundation
import Testing

@testable import ModelPackCore

/// The hasher beside the I/O (`ParallelSHA256` under `HashedStream`): the digest of every size,
/// on its own thread or inline, equals a one-shot SHA-256; streams run back to back through one
/// ring of buffers; a source longer than its limit is cut there and flagged.
@Suite struct HashingTests {
    static let buffer = StreamBuffer.size

    /// The zip readers' CRC-32 (folded with PCLMULQDQ from 64 bytes on) gives zlib's value for
    /// every length, alignment and starting CRC, whole or streamed in two pieces.
    @Test func crc32IsZlibs() {
        #expect(CRC32.update(0, UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.update(0, $0) } == 0xCBF4_3926)
        let bytes = Fixture.noise(3 * Self.buffer + 77, seed: 42)
        var random = SystemRandomNumberGenerator()
        bytes.withUnsafeBytes { all in
            func zlib(_ crc: UInt32, _ part: UnsafeRawBufferPointer) -> UInt32 {
                UInt32(crc32_z(UInt(crc), part.baseAddress!.assumingMemoryBound(to: UInt8.self), part.count))
            }
            var cases: [(offset: Int, length: Int)] = (0..<300).map { ($0 % 64, $0) }
            cases += (0..<2000).map { _ in
                (Int.random(in: 0..<64, using: &random), Int.random(in: 0..<9000, using: &random))
            }
            cases.append((13, all.count - 13))
            for (n, (offset, length)) in cases.enumerated() {
                let part = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                let start: UInt32 = n % 3 == 0 ? 0 : UInt32.random(in: 0...UInt32.max, using: &random)
                let cut = length == 0 ? 0 : Int.random(in: 0...length, using: &random)
                let streamed = CRC32.update(
                    CRC32.update(start, UnsafeRawBufferPointer(rebasing: part[..<cut])),
                    UnsafeRawBufferPointer(rebasing: part[cut...]))
                let expected = zlib(start, part)
                #expect(CRC32.update(start, part) == expected, "offset \(offset), length \(length)")
                #expect(streamed == expected, "offset \(offset), length \(length), cut at \(cut)")
            }
        }
    }

    @Test func everySizeHashesAsOneShot() throws {
        let tmp = TempDir()
        let hasher = ParallelSHA256()  // one ring for all the streams, as a walk uses it
        for (i, size) in [0, 1, Self.buffer - 1, Self.buffer, Self.buffer + 1, 9 * Self.buffer + 3].enumerated() {
            let bytes = Fixture.noise(size, seed: UInt64(i + 1))
            try Fixture.write(bytes, to: tmp.file("f\(i)"))
            let stream = try InputFile(path: tmp.file("f\(i)")).hashedStream(
                label: "f", size: Int64(size), hasher: hasher)
            var copied: [UInt8] = []
            while let chunk = try stream.nextChunk() { copied.append(contentsOf: chunk) }
            #expect(try stream.finish() == SHA256Stream.hex(of: bytes), "size \(size)")
            #expect(copied == bytes && stream.byteCount == Int64(size) && !stream.overflow)
        }
    }

    /// A stream abandoned with a buffer taken and not submitted (an error mid-file) releases the
    /// hasher cleanly: libdispatch traps on a semaphore freed below its start, which killed a pull
    /// whose blob was gone from the registry instead of reporting it.
    @Test func aStreamAbandonedMidBufferReleasesTheHasher() {
        for size in [Int64(10), Int64(4 * Self.buffer)] {
            let hasher = ParallelSHA256()
            hasher.begin(expectedSize: size)
            hasher.submit(hasher.buffer().count)
            _ = hasher.buffer()
        }
    }

    /// A parser reading a few bytes at a time (copies out of the chunks) and the rest drained by
    /// `finish` give the same digest.
    @Test func aParserAndTheDrainHashTheSameBytes() throws {
        let tmp = TempDir()
        let bytes = Fixture.noise(3 * Self.buffer + 777)
        try Fixture.write(bytes, to: tmp.file("f"))
        let stream = try InputFile(path: tmp.file("f")).hashedStream(
            label: "f", size: Int64(bytes.count), hasher: ParallelSHA256())
        let reader = stream.byteReader()
        #expect(try reader.bytes(5) == Array(bytes[0..<5]))
        #expect(try reader.chunk(Self.buffer + 10).count > 0)
        #expect(try stream.finish() == SHA256Stream.hex(of: bytes))
    }

    @Test func aSourceLongerThanItsLimitIsCutAndFlagged() throws {
        let tmp = TempDir()
        let bytes = Fixture.noise(2 * Self.buffer + 5)
        try Fixture.write(bytes, to: tmp.file("f"))
        let stream = try InputFile(path: tmp.file("f")).hashedStream(
            label: "f", size: Int64(2 * Self.buffer), hasher: ParallelSHA256())
        let digest = try stream.finish()
        #expect(stream.overflow && stream.byteCount == Int64(2 * Self.buffer))
        #expect(digest == SHA256Stream.hex(of: bytes[0..<(2 * Self.buffer)]))
    }
}
