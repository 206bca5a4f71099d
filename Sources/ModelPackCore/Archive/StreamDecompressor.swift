internal import CArchive
internal import CZlib

#if canImport(Glibc)
    import Glibc
#endif

/// The compressed streams a model file is wrapped in: joblib's compressors (`compress=`: zlib,
/// gzip, bz2, xz, lzma) and the `.gz`/`.bz2`/`.xz`/`.zst`/`.lz4` files pandas and `gzip.open`
/// write. Told by the first bytes, as joblib's `_detect_compressor` and pandas tell them.
package enum StreamCompression: String, Codable, Sendable {
    case zlib, gzip, bzip2, xz, lzma, zstd, lz4
    /// joblib's format before 0.10, which joblib.load still reads: `ZF`, the length in hex padded
    /// to 19 bytes, then a zlib stream.
    case zfile = "joblib-zfile"

    /// Bytes before the compressed stream starts.
    var headerLength: Int { self == .zfile ? 21 : 0 }

    static func detect(_ head: [UInt8]) -> StreamCompression? {
        if head.starts(with: Array("ZF0x".utf8)), head.count > 23, detect(Array(head[21...])) == .zlib { return .zfile }
        if head.starts(with: [0x1f, 0x8b]) { return .gzip }
        if head.starts(with: Array("BZh".utf8)), head.count > 3, (0x31...0x39).contains(head[3]) { return .bzip2 }
        if head.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if head.starts(with: [0x04, 0x22, 0x4d, 0x18]) { return .lz4 }
        // lzma-alone: properties byte 0x5d (lc=3, lp=0, pb=2, what every encoder writes), a
        // dictionary size, then the uncompressed size (all ones: unknown, as Python writes it).
        if head.count >= 13, head[0] == 0x5d, head[1] == 0x00, head[2] == 0x00 { return .lzma }
        // zlib: deflate with a 32 KiB window (CMF 0x78, all Python's zlib writes; joblib's prefix
        // is `x`), and the header check.
        if head.count >= 2, head[0] == 0x78, (UInt16(head[0]) << 8 | UInt16(head[1])) % 31 == 0,
            head[1] & 0x20 == 0
        {
            return .zlib
        }
        return nil
    }

    /// The compression of a stream that starts with `head`, when the head really decompresses
    /// (some bytes come out, or it is all valid so far): text that happens to start like a zlib
    /// header is not taken for one. Reads only `head`.
    static func probe(_ head: [UInt8]) -> StreamCompression? {
        guard let compression = detect(head) else { return nil }
        let trial = StreamDecompressor(compression, upstream: ByteReader(bytes: head), limits: UnpackLimits())
        let out = trial.reader()
        let first = try? out.peek(1)
        if first?.isEmpty == false { return compression }
        // Nothing out of the head: a stream whose head holds only its header is still one.
        return trial.problem.map { $0.contains("truncated") } == true ? compression : nil
    }
}

/// Decompresses a stream read from `upstream` (`ByteReader`), within the unpack limits: at most
/// `maxTotal` bytes out, and past `ratioFloor` at most `maxRatio` bytes out per byte in. It never
/// throws through its reader: a stream that breaks or passes a limit ends there, and `problem` says
/// why (the audit then reports what it read up to there, and that the rest was not read).
final class StreamDecompressor {
    let compression: StreamCompression
    private let upstream: ByteReader
    private let limits: UnpackLimits
    private var decoder: (any Decoder)?
    /// Bytes given out so far.
    private(set) var produced: Int64 = 0
    /// Why the stream ended before its end, if it did.
    private(set) var problem: String?

    protocol Decoder: AnyObject {
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    }

    struct Broken: Error {
        let reason: String
    }

    init(_ compression: StreamCompression, upstream: ByteReader, limits: UnpackLimits) {
        self.compression = compression
        self.upstream = upstream
        self.limits = limits
        do {
            try upstream.skip(Int64(compression.headerLength))
            decoder =
                [.zlib, .zfile, .gzip].contains(compression)
                ? try ZlibInflater(upstream, gzip: compression == .gzip) : try FilterStream(upstream)
        } catch let broken as Broken {
            problem = broken.reason
        } catch {
            problem = "\(error)"
        }
    }

    /// The decompressed bytes, as a reader for the format parsers.
    func reader() -> ByteReader {
        ByteReader { [self] out in read(into: out) }
    }

    private func read(into out: UnsafeMutableRawBufferPointer) -> Int {
        guard problem == nil, let decoder else { return 0 }
        do {
            let n = try decoder.read(into: out)
            produced += Int64(n)
            if produced > limits.maxTotalSize {
                problem =
                    "it expands past \(limits.maxTotalSize) bytes, the unpack limit (raise it with \(CommandFlag.maxTotalSize))"
                return 0
            }
            let consumed = max(upstream.offset, 1)
            if produced > limits.ratioFloor, produced / consumed > limits.maxRatio {
                problem =
                    "it expands more than \(limits.maxRatio):1 (a compression bomb? raise it with \(CommandFlag.maxRatio))"
                return 0
            }
            return n
        } catch let broken as Broken {
            problem = broken.reason
        } catch {
            problem = "the compressed data cannot be read (\(error))"
        }
        return 0
    }
}

/// zlib and gzip streams (every member of a multi-member gzip file, as Python's gzip reads them).
private final class ZlibInflater: StreamDecompressor.Decoder {
    private let upstream: ByteReader
    private let gzip: Bool
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var finished = false

    init(_ upstream: ByteReader, gzip: Bool) throws {
        self.upstream = upstream
        self.gzip = gzip
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        guard inflateInit2_(stream, gzip ? 31 : 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw StreamDecompressor.Broken(reason: "zlib could not be set up")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Refills the input from upstream when it is used up; false at the end of upstream.
    private func refill() throws -> Bool {
        if stream.pointee.avail_in > 0 { return true }
        let chunk = try upstream.chunk(input.count)
        guard !chunk.isEmpty else { return false }
        chunk.withUnsafeBytes { input.copyMemory(from: $0) }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(chunk.count)
        return true
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let base = out.baseAddress, out.count > 0 else { return 0 }
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(min(out.count, Int(UInt32.max)))
        let capacity = Int(stream.pointee.avail_out)
        while stream.pointee.avail_out == capacity {
            guard try refill() else {
                throw StreamDecompressor.Broken(reason: "the \(gzip ? "gzip" : "zlib") stream is truncated")
            }
            let code = inflate(stream, Z_NO_FLUSH)
            if code == Z_STREAM_END {
                let n = capacity - Int(stream.pointee.avail_out)
                // Another gzip member may follow (Python reads them all); a zlib stream ends here.
                if gzip, try refill(), stream.pointee.next_in.pointee == 0x1f {
                    inflateReset(stream)
                    if n > 0 { return n }
                    continue
                }
                finished = true
                return n
            }
            guard code == Z_OK || code == Z_BUF_ERROR else {
                let why = stream.pointee.msg.map { String(cString: $0) } ?? "error \(code)"
                throw StreamDecompressor.Broken(reason: "the \(gzip ? "gzip" : "zlib") stream is corrupt (\(why))")
            }
        }
        return capacity - Int(stream.pointee.avail_out)
    }
}

/// bzip2, xz, lzma-alone, zstd and lz4 streams, through libarchive's filters and its `raw` format
/// (one entry: the decompressed stream), fed from upstream by a read callback.
private final class FilterStream: StreamDecompressor.Decoder {
    private let upstream: ByteReader
    private let handle: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer

    init(_ upstream: ByteReader) throws {
        self.upstream = upstream
        guard let handle = archive_read_new() else {
            throw StreamDecompressor.Broken(reason: "libarchive could not allocate a reader")
        }
        self.handle = handle
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        for enable in [
            archive_read_support_filter_bzip2, archive_read_support_filter_xz, archive_read_support_filter_lzma,
            archive_read_support_filter_zstd, archive_read_support_filter_lz4,
        ] {
            _ = enable(handle)
        }
        _ = archive_read_support_format_raw(handle)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let opened = archive_read_open(
            handle, context, nil,
            { _, context, buffer in
                guard let context, let buffer else { return -1 }
                return Unmanaged<FilterStream>.fromOpaque(context).takeUnretainedValue().next(buffer)
            }, nil)
        guard opened == ARCHIVE_OK else {
            throw StreamDecompressor.Broken(reason: "the compressed stream cannot be opened (\(message))")
        }
        var entry: OpaquePointer?
        guard archive_read_next_header(handle, &entry) == ARCHIVE_OK else {
            throw StreamDecompressor.Broken(reason: "the compressed stream cannot be read (\(message))")
        }
    }

    deinit {
        archive_read_free(handle)
        input.deallocate()
    }

    private var message: String { ArchiveCall.message(handle) }

    /// The next bytes of upstream for libarchive: a pointer into `input`, valid until the next call.
    fileprivate func next(_ buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        guard let chunk = try? upstream.chunk(input.count) else { return -1 }
        chunk.withUnsafeBytes { input.copyMemory(from: $0) }
        buffer.pointee = UnsafeRawPointer(input.baseAddress)
        return chunk.count
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = out.baseAddress, out.count > 0 else { return 0 }
        let n = archive_read_data(handle, base, out.count)
        guard n >= 0 else { throw StreamDecompressor.Broken(reason: "the compressed stream breaks (\(message))") }
        return n
    }
}
