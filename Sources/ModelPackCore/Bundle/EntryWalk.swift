/// How one file of a bundle compares with its manifest.
public enum FileStatus: String, Codable, Sendable {
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
}

/// One entry's verdict.
public struct FileCheck: Encodable, Equatable, Sendable {
    public let path: String
    public let status: FileStatus
    public let detail: String?

    enum CodingKeys: String, CodingKey { case path, status, detail }

    /// `detail` is always present in JSON (null when there is nothing to say).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(status, forKey: .status)
        try c.encode(detail, forKey: .detail)
    }
}

/// Walks the entries after the manifest, judging each against the manifest. Used by `verify`
/// (which reports everything) and `unpack` (which stops at the first problem and writes each good
/// entry's data through `sink`). An entry's data is never read past the size the manifest gives it.
struct EntryWalk {
    let reader: ArchiveReader
    let manifest: Manifest
    private var remaining: [String: FileRecord]
    private var seen: Set<String> = []

    init(reader: ArchiveReader, manifest: Manifest) {
        self.reader = reader
        self.manifest = manifest
        remaining = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.path, $0) })
    }

    /// Manifest files not met so far.
    var unseen: [FileRecord] {
        manifest.files.filter { remaining[$0.path] != nil }
    }

    /// The next entry's verdict, or nil at the end. `sink(record)` gives the data's destination for
    /// an acceptable entry, or nil to only hash it. Throws only when the archive cannot be read.
    mutating func next(
        buffer: UnsafeMutableRawBufferPointer,
        sink: (FileRecord) throws -> ((UnsafeRawBufferPointer) throws -> Void)?
    ) throws -> FileCheck? {
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
        if let problem = BundlePath.problem(with: path) {
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
        let write = try sink(record)
        var stream = SHA256Stream()
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { break }
            if stream.byteCount + Int64(n) > record.size {
                return FileCheck(
                    path: path, status: .sizeMismatch, detail: "more than the \(record.size) bytes the manifest gives")
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            stream.update(chunk)
            try write?(chunk)
        }
        if stream.byteCount != record.size {
            return FileCheck(
                path: path, status: .sizeMismatch, detail: "\(stream.byteCount) bytes, manifest says \(record.size)")
        }
        let digest = stream.finalizeHex()
        if digest != record.sha256 {
            return FileCheck(
                path: path, status: .modified,
                detail: "content differs from the manifest (sha256 \(digest), expected \(record.sha256))")
        }
        return FileCheck(path: path, status: .ok, detail: nil)
    }
}
