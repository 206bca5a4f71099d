internal import CArchive

#if canImport(Glibc)
    import Glibc
#endif

/// What an archive says of one entry, before its data is read.
struct ArchiveEntryInfo {
    enum Kind: Equatable { case regular, directory, symlink, hardlink, special }
    /// The entry's name as UTF-8, or nil when it is not valid UTF-8.
    let path: String?
    /// The raw name bytes, for error messages about undecodable names.
    let rawPath: [UInt8]
    let kind: Kind
    /// The size the header declares, when it declares one.
    let declaredSize: Int64?
    let mode: mode_t
    /// Modification time in seconds since the epoch, when the header gives one.
    let mtime: Int64?
}

/// Reads an archive sequentially through libarchive: zip (through its central directory, as the
/// loaders do), tar in its ustar/pax/GNU forms, each optionally gzip- or zstd-compressed.
final class ArchiveReader {
    private let handle: OpaquePointer
    let path: String
    private var entry: OpaquePointer?

    /// `sevenZip` also enables 7z, for the audit of 7z artifacts (never for bundles).
    init(path: String, sevenZip: Bool = false) throws {
        guard let handle = archive_read_new() else {
            throw ModelPackError.io(path: path, reason: "libarchive could not allocate a reader")
        }
        self.handle = handle
        self.path = path
        guard let info = try FileSystem.lstatInfo(path) else {
            throw ModelPackError.inputMissing(path: path)
        }
        fileSize = info.size
        guard info.kind == .regular else {
            throw ModelPackError.invalidArchive(path: path, reason: "not a regular file")
        }
        try call(archive_read_support_format_zip_seekable(handle), "enable zip")
        try call(archive_read_support_format_tar(handle), "enable tar")
        if sevenZip { try call(archive_read_support_format_7zip(handle), "enable 7z") }
        try call(archive_read_support_filter_gzip(handle), "enable gzip")
        try call(archive_read_support_filter_zstd(handle), "enable zstd")
        do {
            try UTF8Locale.with {
                try call(archive_read_open_filename(handle, path, 64 * 1024), "open")
            }
        } catch ModelPackError.invalidArchive(let path, let reason) {
            // A zip is read through its central directory, at the end of the file: a zip cut short
            // has none, and libarchive then sees no format at all.
            var head = [UInt8](repeating: 0, count: 4)
            let n = (try? head.withUnsafeMutableBytes { try InputFile(path: path).read(into: $0) }) ?? 0
            if n == 4, head == [0x50, 0x4B, 0x03, 0x04] {
                throw ModelPackError.invalidArchive(
                    path: path,
                    reason:
                        "truncated or damaged zip: it has no central directory (the file ends at byte \(info.size))")
            }
            throw ModelPackError.invalidArchive(path: path, reason: reason)
        }
    }

    /// The size of the file, for saying where a damaged archive ends.
    private let fileSize: Int64

    /// A read error, saying it is a break in the archive and where: the compressed bytes consumed
    /// against the file's size ("truncated: the archive ends at byte N").
    private func broken(_ what: String) -> ModelPackError {
        let consumed = archive_filter_bytes(handle, -1)
        let message = ArchiveCall.message(handle)
        // Decided by where the reading stopped, never by libarchive's wording: a break after the
        // last byte of the file is a truncation.
        let truncated = consumed >= fileSize
        let reason =
            truncated
            ? "truncated: the archive ends at byte \(fileSize) while reading \(what) (\(message))"
            : "damaged at byte \(consumed) of \(fileSize) while reading \(what): \(message)"
        return ModelPackError.invalidArchive(path: path, reason: reason)
    }

    deinit {
        archive_read_free(handle)
    }

    private func call(_ code: Int32, _ what: String) throws {
        try ArchiveCall.check(code, handle, path: path, what, reading: true)
    }

    /// The container libarchive recognised, in modelpack's terms.
    var container: ContainerFormat? {
        let filter = archive_filter_count(handle) > 1 ? archive_filter_code(handle, 0) : ARCHIVE_FILTER_NONE
        let format = archive_format(handle) & ARCHIVE_FORMAT_BASE_MASK
        if format == ARCHIVE_FORMAT_ZIP { return filter == ARCHIVE_FILTER_NONE ? .zip : nil }
        guard format == ARCHIVE_FORMAT_TAR else { return nil }
        switch filter {
        case ARCHIVE_FILTER_NONE: return .tar
        case ARCHIVE_FILTER_GZIP: return .tarGz
        case ARCHIVE_FILTER_ZSTD: return .tarZst
        default: return nil
        }
    }

    /// The next entry's header, or nil at the end of the archive.
    func next() throws -> ArchiveEntryInfo? {
        try UTF8Locale.with { try nextEntry() }
    }

    private func nextEntry() throws -> ArchiveEntryInfo? {
        var next: OpaquePointer?
        let code = archive_read_next_header(handle, &next)
        if code == ARCHIVE_EOF { return nil }
        if code != ARCHIVE_OK { throw broken("an entry header") }
        guard let next else {
            throw ModelPackError.invalidArchive(path: path, reason: "libarchive returned no entry")
        }
        entry = next
        var raw: [UInt8] = []
        if let name = archive_entry_pathname(next) {
            raw = Array(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                    count: strlen(name)))
        }
        let utf8 = archive_entry_pathname_utf8(next).map { String(cString: $0) }
        let decoded = utf8 ?? String(validating: raw, as: UTF8.self)
        let kind: ArchiveEntryInfo.Kind
        if archive_entry_hardlink(next) != nil {
            kind = .hardlink
        } else {
            switch UInt32(archive_entry_filetype(next)) & MP_AE_IFMT {
            case MP_AE_IFREG: kind = .regular
            case MP_AE_IFDIR: kind = .directory
            case MP_AE_IFLNK: kind = .symlink
            default: kind = .special
            }
        }
        let size: Int64? = archive_entry_size_is_set(next) != 0 ? Int64(archive_entry_size(next)) : nil
        return ArchiveEntryInfo(
            path: decoded, rawPath: raw, kind: kind, declaredSize: size,
            mode: mode_t(archive_entry_perm(next)),
            mtime: archive_entry_mtime_is_set(next) != 0 ? Int64(archive_entry_mtime(next)) : nil)
    }

    /// Reads the current entry's data; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = UTF8Locale.with { archive_read_data(handle, buffer.baseAddress, buffer.count) }
        if n < 0 {
            let name = entry.flatMap { archive_entry_pathname_utf8($0) }.map { String(cString: $0) }
            throw broken(name.map { "'\($0)'" } ?? "entry data")
        }
        return Int(n)
    }
}
