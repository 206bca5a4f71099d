/// How one file of a bundle compares with its manifest.
package enum FileStatus: String, Codable, Sendable {
    case ok
    /// Same size, different SHA-256.
    case modified
    /// The archive holds a different number of bytes than the manifest says.
    case sizeMismatch = "size-mismatch"
    /// Listed in the manifest, absent from the archive.
    case missing
    /// In the archive, not in the manifest.
    case extra
    /// A second entry with the same path.
    case duplicate
    /// An entry no bundle may hold: a link, a device, a hostile path.
    case refused
    /// The archive broke while this file was being read (truncated or corrupt stream).
    case truncated
    /// Listed in the manifest, after the point where the archive broke: never read.
    case unread
}

/// One entry's verdict.
package struct FileCheck: Encodable, Equatable, Sendable {
    package let path: String
    package let status: FileStatus
    package let detail: String?

    enum CodingKeys: String, CodingKey { case path, status, detail }

    /// `detail` is always present in JSON (null when there is nothing to say).
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(status, forKey: .status)
        try c.encode(detail, forKey: .detail)
    }
}

/// The bytes of one entry as the walk hands them out (`HashedStream`): never more than the
/// manifest gives it, hashed as they are read.
final class EntryData {
    let record: FileRecord
    let stream: HashedStream
    /// Where the entry's bytes lie in the bundle file, when they lie there as they are (a plain
    /// tar, a zip's stored member): another reader may read them from there (push's uploads).
    let range: Range<Int64>?

    init(reader: ArchiveReader, record: FileRecord, hasher: ParallelSHA256, progress: TransferObserver?) {
        self.record = record
        range = reader.currentDataRange
        stream = HashedStream(label: record.path, limit: record.size, hasher: hasher, source: reader.read)
        stream.progress = progress
    }

    /// The entry's next chunk, readable until the next call (see `HashedStream.nextChunk`).
    func nextChunk() throws -> UnsafeRawBufferPointer? { try stream.nextChunk() }

    /// Copies up to `buffer.count` bytes out; 0 at the end of the entry or at its manifest size.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try stream.read(into: buffer) }

    /// A parser's view of the entry, buffered to its size.
    func byteReader() -> ByteReader { stream.byteReader() }

    /// Reads what is left and says whether the entry is its record: its size and its SHA-256,
    /// the walk's own test (`EntryWalk.next` gives the reason when it is not), for a consumer
    /// that must know before the walk says so (push, before it closes an upload).
    func matchesRecord() throws -> Bool {
        let hex = try stream.finish()
        return !stream.overflow && stream.byteCount == record.size && hex == record.sha256
    }
}

/// The one reader of a bundle's entries against its manifest, under every command that reads a
/// bundle (verify, unpack, validate, inspect, dockerfile, serve). Each entry after the manifest is
/// judged on its type, its path (`BundlePath`), duplicates, whether the manifest lists it and the
/// size the archive declares; a listed entry's data is then handed to the caller, never past the
/// size the manifest gives it, hashed as it is read, and checked for size and digest.
struct EntryWalk {
    let reader: ArchiveReader
    let manifest: Manifest
    private var remaining: [String: FileRecord]
    private let hasher = ParallelSHA256()
    private var seen: Set<String> = []
    /// The entry being read when the archive failed, if it did.
    private(set) var current: String?

    /// The longest path an entry may have (the run's --max-path-length).
    private let maxPathBytes: Int
    private let progress: TransferObserver?

    init(reader: ArchiveReader, manifest: Manifest, maxPathBytes: Int, progress: TransferObserver? = nil) {
        self.reader = reader
        self.manifest = manifest
        self.maxPathBytes = maxPathBytes
        self.progress = progress
        remaining = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.path, $0) })
    }

    /// Manifest files not met so far.
    var unseen: [FileRecord] {
        manifest.files.filter { remaining[$0.path] != nil }
    }

    /// The next entry's verdict, or nil at the end. `consume` reads what it wants of an acceptable
    /// entry; the rest is read and hashed after it returns. Throws only when the archive cannot be
    /// read (then `current` names the entry it broke in).
    mutating func next(consume: (EntryData) throws -> Void) throws -> FileCheck? {
        current = nil
        guard let entry = try reader.next() else { return nil }
        guard let path = entry.path else {
            return FileCheck(
                path: String(decoding: entry.rawPath, as: UTF8.self), status: .refused,
                detail: "name is not valid UTF-8")
        }
        switch entry.kind {
        case .regular: break
        case .directory:
            return FileCheck(path: path, status: .refused, detail: "directory entry (bundles hold files only)")
        case .symlink: return FileCheck(path: path, status: .refused, detail: "symbolic link")
        case .hardlink: return FileCheck(path: path, status: .refused, detail: "hard link")
        case .special: return FileCheck(path: path, status: .refused, detail: "device, FIFO or socket")
        }
        if let problem = BundlePath.problem(with: path, maxPathBytes: maxPathBytes) {
            return FileCheck(path: path, status: .refused, detail: problem)
        }
        if path == Manifest.entryPath || seen.contains(path) {
            return FileCheck(path: path, status: .duplicate, detail: "second entry with this path")
        }
        guard let record = remaining.removeValue(forKey: path) else {
            return FileCheck(path: path, status: .extra, detail: "not listed in the manifest")
        }
        seen.insert(path)
        if let declared = entry.declaredSize, declared != record.size {
            return FileCheck(
                path: path, status: .sizeMismatch,
                detail: "archive declares \(declared) bytes, manifest says \(record.size)")
        }
        current = path
        let data = EntryData(reader: reader, record: record, hasher: hasher, progress: progress)
        let stream = data.stream
        do {
            try consume(data)
            if let failure = stream.failure { throw failure }
        } catch {
            stream.abandon()
            throw error
        }
        let digest = try stream.finish()
        current = nil
        if stream.overflow {
            return FileCheck(
                path: path, status: .sizeMismatch, detail: "more than the \(record.size) bytes the manifest gives")
        }
        if stream.byteCount != record.size {
            return FileCheck(
                path: path, status: .sizeMismatch, detail: "\(stream.byteCount) bytes, manifest says \(record.size)")
        }
        if digest != record.sha256 {
            return FileCheck(
                path: path, status: .modified,
                detail: "content differs from the manifest (sha256 \(digest), expected \(record.sha256))")
        }
        return FileCheck(path: path, status: .ok, detail: nil)
    }

    /// Walks every entry, refusing the bundle at the first entry that is not `ok` and at a listed
    /// file never met: what unpack and the checks need (verify, which reports everything, calls
    /// `next` itself). `consume` gets each entry's data; `verified` is told each entry that matched.
    mutating func requireEveryEntry(
        of bundle: String, consume: (EntryData) throws -> Void, verified: (String) -> Void = { _ in }
    ) throws {
        while let check = try next(consume: consume) {
            guard check.status == .ok else {
                throw ModelPackError.invalidBundle(
                    path: bundle, reason: "refused entry '\(check.path)': \(check.detail ?? check.status.rawValue)")
            }
            verified(check.path)
        }
        if let missing = unseen.first {
            throw ModelPackError.invalidBundle(
                path: bundle, reason: "refused: '\(missing.path)' is listed in the manifest but not in the archive")
        }
    }
}
