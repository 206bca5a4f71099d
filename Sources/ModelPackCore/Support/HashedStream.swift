/// One read of a file or an archive entry, in chunks, each hashed beside the caller
/// (`ParallelSHA256`) and never more than `limit` bytes: the one reading loop under build's pass
/// over the directory (audit, hash and bundle from the same bytes) and under every bundle walk
/// (verify, unpack, the checks, push). A consumer that writes or hashes takes `nextChunk()` (no
/// copy); a parser takes `read(into:)`, which copies out of the current chunk.
final class HashedStream {
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    private let hasher: ParallelSHA256
    /// Names the bytes in progress reports.
    let label: String
    /// Told each chunk handed out (the run's progress line), when there is one.
    var progress: TransferObserver?
    let limit: Int64
    /// Bytes handed out (and hashed) so far.
    private(set) var byteCount: Int64 = 0
    /// The source held more than `limit` bytes (what lies past it was not handed out).
    private(set) var overflow = false
    /// The source's read error, kept: a parser that swallows it cannot hide it from the walk.
    private(set) var failure: (any Error)?
    /// Called with every chunk as it is handed out, before whoever asked for it sees it (build
    /// writes the bundle from the bytes its audit reads).
    var onChunk: ((UnsafeRawBufferPointer) throws -> Void)?
    /// What `read(into:)` has not yet copied out of the current chunk.
    private var pending = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The digest, once `finish` gave it.
    private var digest: String?

    init(
        label: String, limit: Int64, hasher: ParallelSHA256,
        source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int
    ) {
        self.label = label
        self.limit = limit
        self.hasher = hasher
        self.source = source
        hasher.begin(expectedSize: limit)
    }

    /// The next chunk, readable until the next call; nil at the end or past `limit`. It is read
    /// straight into the hasher's buffer, so that writing it out or hashing it copies nothing.
    func nextChunk() throws -> UnsafeRawBufferPointer? {
        if overflow { return nil }
        if let failure { throw failure }
        let buffer = hasher.buffer()
        let n: Int
        do { n = try source(buffer) } catch {
            failure = error
            throw error
        }
        pending = UnsafeRawBufferPointer(start: nil, count: 0)
        if n == 0 { return nil }
        if byteCount + Int64(n) > limit {
            overflow = true
            return nil
        }
        hasher.submit(n)
        byteCount += Int64(n)
        progress?(.moved(path: label, bytes: Int64(n)))
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        try onChunk?(chunk)
        return chunk
    }

    /// Copies up to `buffer.count` bytes out; 0 at the end or past `limit`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pending.isEmpty {
            guard let chunk = try nextChunk() else { return 0 }
            pending = chunk
        }
        let n = min(buffer.count, pending.count)
        buffer.baseAddress!.copyMemory(from: pending.baseAddress!, byteCount: n)
        pending = UnsafeRawBufferPointer(rebasing: pending[n...])
        return n
    }

    /// A parser's view, buffered to the expected size.
    func byteReader() -> ByteReader {
        ByteReader(bufferSize: Int(max(4096, min(limit + 1, 1 << 20))), source: read)
    }

    /// Reads what is left (hashing it) and gives the SHA-256 of the bytes handed out. Later calls
    /// give the same digest (a consumer that must know it before the walk does, push's upload,
    /// asks first). Call it, or `abandon()`, for every stream.
    func finish() throws -> String {
        if let digest { return digest }
        do {
            while try nextChunk() != nil {}
        } catch {
            abandon()
            throw error
        }
        let hex = hasher.finish().hex
        digest = hex
        return hex
    }

    /// Ends the stream without its digest (an error path); nothing to do once it was finished.
    func abandon() {
        if digest == nil { _ = hasher.finish() }
    }
}

extension InputFile {
    /// Reads until `buffer` is full or the file ends: chunks of a file are the same on every run
    /// (the first one is the zip writer's compressibility sample).
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// The file's bytes as a `HashedStream` of exactly `size` bytes.
    func hashedStream(label: String, size: Int64, hasher: ParallelSHA256) -> HashedStream {
        HashedStream(label: label, limit: size, hasher: hasher, source: readFully)
    }
}
