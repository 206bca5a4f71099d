import Foundation
import Testing

@testable import ModelPackCore

/// The hasher beside the I/O (`ParallelSHA256` under `HashedStream`): the digest of every size,
/// on its own thread or inline, equals a one-shot SHA-256; streams run back to back through one
/// ring of buffers; a source longer than its limit is cut there and flagged.
@Suite struct HashingTests {
    static let buffer = StreamBuffer.size

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
