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
    /// The archive's file, read by libarchive (through its descriptor) and by the direct reads.
    private let input: InputFile
    /// Set by `readDataDirectly`: a plain tar's entries, and the zip's stored members listed in
    /// `storedMembers`, are then read straight from the file.
    private var readsDirectly = false
    private var storedMembers: [String: ZipView.Member] = [:]
    /// The current entry's data as a range of the file, when it is read directly, how far it
    /// has been read and the CRC-32 so far.
    private var direct: DirectRead?

    /// Whether the current entry's data is read straight from the file.
    var readsCurrentEntryDirectly: Bool { direct != nil }

    /// Where the current entry's data lies in the file, when it is read straight from it (asked
    /// before any of it is read): a plain tar's entry, a zip's stored member.
    var currentDataRange: Range<Int64>? { direct.map { $0.position..<$0.end } }

    private struct DirectRead {
        let name: String
        var position: Int64
        let end: Int64
        /// A zip member's CRC-32 from the central directory (a tar has none).
        let expectedCRC: UInt32?
        var crc: UInt32
    }

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
        input = try InputFile(path: path)
        try call(archive_read_support_format_zip_seekable(handle), "enable zip")
        try call(archive_read_support_format_tar(handle), "enable tar")
        if sevenZip { try call(archive_read_support_format_7zip(handle), "enable 7z") }
        try call(archive_read_support_filter_gzip(handle), "enable gzip")
        try call(archive_read_support_filter_zstd(handle), "enable zstd")
        do {
            try UTF8Locale.with {
                try call(archive_read_open_fd(handle, input.descriptor, 64 * 1024), "open")
            }
        } catch ModelPackError.invalidArchive(let path, let reason) {
            // A zip is read through its central directory, at the end of the file: a zip cut short
            // has none, and libarchive then sees no format at all.
            var head = [UInt8](repeating: 0, count: 4)
            let n = (try? head.withUnsafeMutableBytes { try input.read(at: 0, into: $0) }) ?? 0
            if n == 4, head == [0x50, 0x4B, 0x03, 0x04] {
                throw ModelPackError.invalidArchive(
                    path: path,
                    reason:
                        "truncated or damaged zip: it has no central directory (the file ends at byte \(info.size))")
            }
            if info.size == 0 { throw ModelPackError.invalidArchive(path: path, reason: "empty file") }
            // A gzip or zstd stream that breaks before its first tar header (a small bundle cut
            // short: libarchive reads all of it at open).
            if n >= 4, head[0] == 0x1F && head[1] == 0x8B || head == [0x28, 0xB5, 0x2F, 0xFD] {
                let kind = head[0] == 0x1F ? "tar.gz" : "tar.zst"
                throw ModelPackError.invalidArchive(
                    path: path, reason: "truncated or damaged \(kind): the file ends at byte \(info.size) (\(reason))")
            }
            let formats = sevenZip ? "zip, 7z, tar, tar.gz or tar.zst" : "zip, tar, tar.gz or tar.zst"
            throw ModelPackError.invalidArchive(path: path, reason: "not a \(formats) archive (\(reason))")
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
        direct = nil
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
        if readsDirectly, kind == .regular, let decoded {
            if let member = storedMembers[decoded] {
                direct = try directRead(of: member, named: raw, declaredSize: size)
            } else if container == .tar, let size, archive_entry_sparse_count(next) == 0 {
                // A plain tar's data follows its header: where libarchive's reading now stands.
                let start = Int64(archive_filter_bytes(handle, 0))
                if start >= 0, start + size <= fileSize {
                    direct = DirectRead(name: decoded, position: start, end: start + size, expectedCRC: nil, crc: 0)
                }
            }
        }
        return ArchiveEntryInfo(
            path: decoded, rawPath: raw, kind: kind, declaredSize: size,
            mode: mode_t(archive_entry_perm(next)),
            mtime: archive_entry_mtime_is_set(next) != 0 ? Int64(archive_entry_mtime(next)) : nil)
    }

    /// Reads the current entry's data; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if var read = direct { return try readDirectly(&read, into: buffer) }
        let n = UTF8Locale.with { archive_read_data(handle, buffer.baseAddress, buffer.count) }
        if n < 0 {
            let name = entry.flatMap { archive_entry_pathname_utf8($0) }.map { String(cString: $0) }
            throw broken(name.map { "'\($0)'" } ?? "entry data")
        }
        return Int(n)
    }

    /// From here on, reads entry data straight from the file with pread into the caller's buffer
    /// (the parallel hasher's), as bsdtar's zero-copy reads do, instead of through libarchive,
    /// which copies each block once more (and, in a zip, computes the CRC-32 on the same core).
    /// Only for a bundle: every byte handed out is then checked against the manifest's size and
    /// SHA-256, and the manifest itself, read before this is called, went through libarchive.
    /// libarchive still reads every header and judges names, types and sizes.
    /// - plain tar: each regular, non-sparse entry's data, from where libarchive stands after its
    ///   header, when it lies inside the file;
    /// - zip: a member whose central directory entry is its name's only one, stored and
    ///   unencrypted in both its central and local headers, its local header naming it with the
    ///   same bytes, its sizes agreeing with libarchive's and its data inside the file; its CRC-32
    ///   is checked as libarchive checks it;
    /// - anything else (a compressed tar, a deflated member, headers that disagree) is read
    ///   through libarchive as before.
    func readDataDirectly() {
        switch container {
        case .tar:
            readsDirectly = archive_filter_count(handle) == 1
        case .zip:
            guard let zip = try? zipView() else { return }
            var counts: [String: Int] = [:]
            for member in zip.members { counts[member.name, default: 0] += 1 }
            for member in zip.members
            where counts[member.name] == 1 && member.method == 0 && member.flags & 1 == 0
                && member.compressedSize == member.size
            {
                storedMembers[member.name] = member
            }
            readsDirectly = true
        default:
            return
        }
    }

    private var parsedZip: ZipView?

    /// A zip's central directory, read once (by this reader, beside libarchive); `maxMembers` is
    /// what the caller allows (a bundle's entry limit, and its manifest).
    private func zipView(maxMembers: Int = 1_000_000) throws -> ZipView {
        if let parsedZip { return parsedZip }
        let zip = try ZipView(file: input, size: fileSize, maxMembers: maxMembers)
        parsedZip = zip
        return zip
    }

    /// The first zip member whose name, as its central directory spells it, has a backslash.
    /// libarchive hands such a name out with slashes (as written on Windows), so the bundle rules
    /// would judge another name than the one a reader that keeps it (Python's zipfile) sees: a
    /// bundle is judged on the names as written. A central directory this reader cannot read
    /// (data before the zip, offsets that do not add up) is refused rather than left unjudged.
    func zipMemberWithBackslash(maxMembers: Int) throws -> String? {
        do {
            return try zipView(maxMembers: maxMembers).members.first { $0.name.utf8.contains(UInt8(ascii: "\\")) }?
                .name
        } catch let malformed as ZipView.Malformed {
            throw ModelPackError.invalidArchive(path: path, reason: "damaged zip: \(malformed.reason)")
        }
    }

    /// Where a stored member's data lies in the file, or nil when its local header does not
    /// confirm what the central directory says (then libarchive reads it).
    private func directRead(of member: ZipView.Member, named raw: [UInt8], declaredSize: Int64?) throws
        -> DirectRead?
    {
        guard declaredSize == nil || declaredSize == member.size, member.localHeaderOffset >= 0 else { return nil }
        var header = [UInt8](repeating: 0, count: 30 + raw.count)
        let n = try header.withUnsafeMutableBytes { try input.read(at: member.localHeaderOffset, into: $0) }
        guard n == header.count, ZipView.le(header, 0, 4) == 0x0403_4b50, ZipView.le(header, 8, 2) == 0,
            ZipView.le(header, 6, 2) & 1 == 0, Int(ZipView.le(header, 26, 2)) == raw.count,
            Array(header[30...]) == raw
        else { return nil }
        let start = member.localHeaderOffset + 30 + Int64(raw.count) + Int64(ZipView.le(header, 28, 2))
        guard start + member.size <= fileSize else { return nil }
        return DirectRead(
            name: member.name, position: start, end: start + member.size, expectedCRC: member.crc32, crc: 0)
    }

    /// One pread of a directly read member, and its CRC-32 checked at its end as libarchive
    /// (and Python's zipfile, the runtime's reader) would check it, with libarchive's words.
    private func readDirectly(_ read: inout DirectRead, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(Int64(buffer.count), read.end - read.position))
        guard want > 0 else { return 0 }
        let n = try input.read(at: read.position, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
        guard n > 0 else {
            throw ModelPackError.invalidArchive(
                path: path,
                reason: "truncated: the archive ends at byte \(read.position) while reading '\(read.name)'")
        }
        read.position += Int64(n)
        guard let expectedCRC = read.expectedCRC else {
            direct = read
            return n
        }
        read.crc = CRC32.update(read.crc, UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        direct = read
        if read.position == read.end, read.crc != expectedCRC {
            let found = String(read.crc, radix: 16), expected = String(expectedCRC, radix: 16)
            throw ModelPackError.invalidArchive(
                path: path,
                reason:
                    "damaged at byte \(read.end) of \(fileSize) while reading '\(read.name)': ZIP bad CRC: 0x\(found) should be 0x\(expected)"
            )
        }
        return n
    }
}
