internal import CArchive
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How a zip entry's data is stored. Ignored by tar containers.
enum ZipMethod { case deflate, store }

/// One entry to write. Bundles contain regular files only; the other kinds exist so that tests can
/// build the hostile archives the unpacker must refuse.
struct ArchiveEntryHeader {
    enum Kind { case regular, directory, symlink(String), hardlink(String), fifo }
    var path: String
    var kind: Kind = .regular
    var size: Int64 = 0
    var mode: mode_t = 0o644
    var mtime: Int64 = 0
    var zipMethod: ZipMethod = .deflate
}

/// Writes an archive to an open file descriptor through libarchive, deterministically: no
/// timestamps but the one given, uid/gid 0, no user or group names, no extended attributes, and
/// the gzip filter's header timestamp turned off.
final class ArchiveWriter {
    private let handle: OpaquePointer
    let path: String
    let format: ContainerFormat
    /// The file the archive goes to, open for reading too: a zip's CRCs are put in place (the writer
    /// never closes it).
    let fd: Int32
    private(set) var isClosed = false
    /// Where the archive's stream stood when `close` began (a zip's central directory starts there).
    private(set) var endOfEntries: Int64?

    init(fd: Int32, path: String, format: ContainerFormat) throws {
        guard let handle = archive_write_new() else {
            throw ModelPackError.io(path: path, reason: "libarchive could not allocate a writer")
        }
        self.handle = handle
        self.path = path
        self.format = format
        self.fd = fd
        sink = OutputSink(fd: fd, path: path)
        switch format {
        case .zip:
            try call(archive_write_set_format_zip(handle), "set zip format")
            // libarchive's CRC-32 is zlib's, on this thread beside the reads and writes (a quarter
            // of bsdtar's time for a stored zip here). `CRC32` computes it faster and goes in
            // place of the zeros libarchive then writes (see `finishEntry` and `close`).
            try call(archive_write_set_format_option(handle, "zip", "fakecrc32", "1"), "set zip crc option")
        case .tar, .tarGz, .tarZst:
            try call(archive_write_set_format_pax_restricted(handle), "set tar format")
        }
        switch format {
        case .tarGz:
            try call(archive_write_add_filter_gzip(handle), "add gzip filter")
            try call(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), "disable gzip timestamp")
        case .tarZst:
            try call(archive_write_add_filter_zstd(handle), "add zstd filter")
        case .zip, .tar:
            break
        }
        // No blocking by libarchive, which would copy every byte into its 10 KiB records (and pad
        // the last one): its output goes to `OutputSink`, which gathers the small pieces (headers,
        // small files, padding) into one write and passes a large chunk straight to write(2).
        // The bytes are the same: writing to a regular file, libarchive pads no last block.
        try call(archive_write_set_bytes_per_block(handle, 0), "turn off blocking")
        let client = Unmanaged.passUnretained(sink).toOpaque()
        try call(archive_write_open(handle, client, nil, sinkWrite, sinkClose), "open output")
        if format == .zip {  // its MS-DOS dates are UTC's (ProcessZone)
            ProcessZone.enterUTC()
            inUTC = true
        }
    }

    deinit {
        sink.discard()  // an archive never closed: nothing more reaches the file (its fd may be gone)
        archive_write_free(handle)
        leaveUTC()
    }

    private var inUTC = false

    private func leaveUTC() {
        guard inUTC else { return }
        inUTC = false
        ProcessZone.leaveUTC()
    }

    private let sink: OutputSink
    /// A zip's entries so far, for their CRC-32s (the current one's running).
    private var zipEntries: [ZipEntry] = []

    private struct ZipEntry {
        /// Where its local header starts, and where the entry ends (once finished).
        let headerOffset: Int64
        var end: Int64 = 0
        var size: Int64
        var crc: UInt32
        /// A reserved entry: its CRC is put in by `fill`, once its bytes are known.
        var reserved = false
    }

    private func call(_ code: Int32, _ what: String) throws {
        try ArchiveCall.check(code, handle, path: path, what, reading: false)
    }

    /// Bytes of the archive stream so far, before any compression filter: libarchive's count of
    /// what the format handed to the first filter (an offset in the file for zip and plain tar).
    var position: Int64 { Int64(archive_filter_bytes(handle, 0)) }

    func begin(_ header: ArchiveEntryHeader) throws {
        if format == .zip {
            // A link's target is its data, which libarchive writes with the header.
            let data: [UInt8] = if case .symlink(let target) = header.kind { Array(target.utf8) } else { [] }
            zipEntries.append(
                ZipEntry(
                    headerOffset: position, size: Int64(data.count), crc: data.withUnsafeBytes { CRC32.update(0, $0) }))
        }
        try UTF8Locale.with { try beginEntry(header) }
    }

    private func beginEntry(_ header: ArchiveEntryHeader) throws {
        guard let entry = archive_entry_new() else {
            throw ModelPackError.io(path: path, reason: "libarchive could not allocate an entry")
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, header.path)
        archive_entry_set_mtime(entry, time_t(header.mtime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        archive_entry_set_perm(entry, header.mode)
        switch header.kind {
        case .regular:
            archive_entry_set_filetype(entry, MP_AE_IFREG)
            archive_entry_set_size(entry, la_int64_t(header.size))
        case .directory:
            archive_entry_set_filetype(entry, MP_AE_IFDIR)
        case .symlink(let target):
            archive_entry_set_filetype(entry, MP_AE_IFLNK)
            archive_entry_set_symlink_utf8(entry, target)
        case .hardlink(let target):
            archive_entry_set_filetype(entry, MP_AE_IFREG)
            archive_entry_set_hardlink_utf8(entry, target)
            archive_entry_set_size(entry, 0)
        case .fifo:
            archive_entry_set_filetype(entry, MP_AE_IFIFO)
        }
        if format == .zip {
            switch header.zipMethod {
            case .deflate: try call(archive_write_zip_set_compression_deflate(handle), "select deflate")
            case .store: try call(archive_write_zip_set_compression_store(handle), "select store")
            }
        }
        try call(archive_write_header(handle, entry), "write header for \(header.path)")
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if format == .zip, !zipEntries.isEmpty {
            zipEntries[zipEntries.count - 1].crc = CRC32.update(zipEntries[zipEntries.count - 1].crc, bytes)
            zipEntries[zipEntries.count - 1].size += Int64(bytes.count)
        }
        var offset = 0
        while offset < bytes.count {
            let n = archive_write_data(handle, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 {
                throw ModelPackError.io(path: path, reason: "write failed: \(ArchiveCall.message(handle))")
            }
            offset += Int(n)
        }
    }

    func finishEntry() throws {
        try call(archive_write_finish_entry(handle), "finish entry")
        guard format == .zip, sink.failure == 0, !zipEntries.isEmpty else { return }
        zipEntries[zipEntries.count - 1].end = position
        if !zipEntries[zipEntries.count - 1].reserved { try putCRC(zipEntries[zipEntries.count - 1]) }
    }

    func close() throws {
        guard !isClosed else { return }
        isClosed = true
        defer { leaveUTC() }
        endOfEntries = position
        try call(archive_write_close(handle), "close archive")
        // After a failed write (the error already reported) the output is cut short: nothing to fill.
        if format == .zip, sink.failure == 0 { try putCentralCRCs() }
    }

    /// The entry's CRC-32 where libarchive wrote zeros in its stead: the data descriptor that
    /// ends the entry when the local header's flag bit 3 says there is one (16 bytes, or 24 with
    /// zip64 sizes), else the local header. Each place is checked first: its signature, a zero
    /// CRC and the entry's size.
    private func putCRC(_ entry: ZipEntry) throws {
        let end = entry.end
        let local = try sink.read(at: entry.headerOffset, count: 30)
        guard ZipView.le(local, 0, 4) == 0x0403_4b50, ZipView.le(local, 14, 4) == 0 else {
            throw crcMisplaced("local header", at: entry.headerOffset)
        }
        guard ZipView.le(local, 6, 2) & 0x8 != 0 else {
            return try sink.overwrite(at: entry.headerOffset + 14, with: Self.le32(entry.crc))
        }
        for length in [16, 24] where end - Int64(length) >= entry.headerOffset {
            let d = try sink.read(at: end - Int64(length), count: length)
            let size = length == 16 ? ZipView.le(d, 12, 4) : ZipView.le(d, 16, 8)
            if ZipView.le(d, 0, 4) == 0x0807_4b50, ZipView.le(d, 4, 4) == 0, size == UInt64(entry.size) {
                return try sink.overwrite(at: end - Int64(length) + 4, with: Self.le32(entry.crc))
            }
        }
        throw crcMisplaced("data descriptor", at: end)
    }

    /// Every entry's CRC-32 in the central directory, which libarchive wrote from `endOfEntries`
    /// on, one record per entry in the order they were written: read back, filled in and written
    /// again a window of at most 1 MiB at a time (memory stays flat however many files).
    private func putCentralCRCs() throws {
        guard let start = endOfEntries else { return }
        let end = sink.end
        var window: [UInt8] = []
        var windowStart = start
        var record = start
        for entry in zipEntries {
            if record + 46 > windowStart + Int64(window.count) {
                try sink.overwrite(at: windowStart, with: window)
                windowStart = record
                window = try sink.read(at: record, count: Int(min(end - record, Int64(1 << 20))))
            }
            let at = Int(record - windowStart)
            guard at + 46 <= window.count, ZipView.le(window, at, 4) == 0x0201_4b50, ZipView.le(window, at + 16, 4) == 0
            else { throw crcMisplaced("central directory", at: record) }
            window.replaceSubrange((at + 16)..<(at + 20), with: Self.le32(entry.crc))
            let variable =
                ZipView.le(window, at + 28, 2) + ZipView.le(window, at + 30, 2) + ZipView.le(window, at + 32, 2)
            record += 46 + Int64(variable)
        }
        try sink.overwrite(at: windowStart, with: window)
    }

    static func canReserve(_ format: ContainerFormat) -> Bool { format == .zip || format == .tar }

    /// Writes `header`'s entry (stored, in a zip) with `length` zero bytes as its data.
    func reserve(_ header: ArchiveEntryHeader, length: Int) throws -> ReservedEntry {
        precondition(Self.canReserve(format), "only zip and tar entries can be filled in place")
        var stored = header
        stored.size = Int64(length)
        stored.zipMethod = .store
        try begin(stored)
        let dataOffset = position
        try [UInt8](repeating: 0, count: length).withUnsafeBytes { try write($0) }
        if format == .zip { zipEntries[zipEntries.count - 1].reserved = true }
        try finishEntry()
        return ReservedEntry(
            length: length, dataOffset: dataOffset, zipIndex: format == .zip ? zipEntries.count - 1 : nil)
    }

    /// Writes `bytes` (of the reserved length) over `entry`'s zeros, before the archive is closed;
    /// in a zip, its CRC-32 goes where the others went (the central directory's at `close`).
    func fill(_ entry: ReservedEntry, with bytes: [UInt8]) throws {
        precondition(!isClosed && bytes.count == entry.length, "fill an open archive with the reserved length")
        try sink.overwrite(at: entry.dataOffset, with: bytes)
        guard let index = entry.zipIndex else { return }
        zipEntries[index].crc = bytes.withUnsafeBytes { CRC32.update(0, $0) }
        try putCRC(zipEntries[index])
    }

    private static func le32(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private func crcMisplaced(_ part: String, at offset: Int64) -> ModelPackError {
        ModelPackError.io(
            path: path,
            reason: "cannot put a CRC-32 in the zip's \(part) at byte \(offset): it is not where libarchive writes it")
    }
}

/// An entry written as zeros of its final length and filled in before the archive is closed: how
/// a bundle's manifest, which holds every file's digest, comes first in the archive though the
/// digests are known only once the files have been read (so each file is read once). Zip and
/// plain tar only: a compressed stream cannot be changed in place. In a zip the entry is stored,
/// and its CRC-32 is put in like every other entry's, once its bytes are known.
struct ReservedEntry {
    let length: Int
    let dataOffset: Int64
    /// Its place among a zip's entries.
    let zipIndex: Int?
}

/// The file libarchive's output goes to: pieces smaller than the buffer are gathered and written
/// together (5,000 small files were 10,000 write calls; bsdtar makes about 1,300); a piece at least
/// half the buffer's size is written as it is, after what was gathered. Written out when the
/// archive is closed.
private final class OutputSink {
    let fd: Int32
    let path: String
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)
    private var count = 0
    /// Where the buffer's first byte goes in the file: everything before it is written.
    private var base: Int64 = 0
    private var discarded = false
    /// errno of the write that failed.
    private(set) var failure: Int32 = 0
    /// A bundle is synced before it is renamed into place: its data goes to the disk as it is
    /// written.
    private var writeback = WritebackPacer()

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// The output's length so far.
    var end: Int64 { base + Int64(count) }

    deinit { buffer.deallocate() }

    func discard() { discarded = true }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if discarded { return false }
        if count + bytes.count <= buffer.count && bytes.count < buffer.count / 2 {
            if bytes.count > 0 {
                (buffer.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
            count += bytes.count
            return true
        }
        guard flush() else { return false }
        if bytes.count < buffer.count / 2 { return write(bytes) }
        return writeAll(bytes)
    }

    func flush() -> Bool {
        if discarded { return count == 0 }
        let pending = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        count = 0
        return writeAll(pending)
    }

    /// `count` bytes of the output from `offset` on, from the buffer or from the file.
    func read(at offset: Int64, count length: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        try bytes.withUnsafeMutableBytes { out in
            try visit(offset, length) { range, inBuffer, done in
                if let inBuffer {
                    (out.baseAddress! + done).copyMemory(from: inBuffer, byteCount: range.count)
                } else {
                    let n = pread(fd, out.baseAddress! + done, range.count, off_t(range.lowerBound))
                    guard n == range.count else {
                        throw ModelPackError.io(path: path, reason: "read back failed: \(FileSystem.errnoMessage())")
                    }
                }
            }
        }
        return bytes
    }

    /// Replaces output bytes from `offset` on: in the buffer where they still are, else in the file.
    func overwrite(at offset: Int64, with bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { new in
            try visit(offset, new.count) { range, inBuffer, done in
                if let inBuffer {
                    inBuffer.copyMemory(from: new.baseAddress! + done, byteCount: range.count)
                } else {
                    let n = pwrite(fd, new.baseAddress! + done, range.count, off_t(range.lowerBound))
                    guard n == range.count else {
                        throw ModelPackError.io(path: path, reason: "write failed: \(FileSystem.errnoMessage())")
                    }
                }
            }
        }
    }

    /// The part of `offset..<offset+length` already in the file, then the part in the buffer.
    private func visit(
        _ offset: Int64, _ length: Int,
        _ body: (Range<Int64>, UnsafeMutableRawPointer?, Int) throws -> Void
    ) throws {
        let end = offset + Int64(length)
        guard offset >= 0, length >= 0, end <= base + Int64(count) else {
            throw ModelPackError.io(
                path: path, reason: "bytes \(offset)..<\(end) are past the \(base + Int64(count)) written")
        }
        if offset < base { try body(offset..<min(end, base), nil, 0) }
        if end > base {
            let from = max(offset, base)
            try body(from..<end, buffer.baseAddress! + Int(from - base), Int(from - offset))
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return false
            }
            offset += n
        }
        base += Int64(bytes.count)
        writeback.wrote(bytes.count, fd: fd)
        return true
    }
}

private func sinkWrite(
    _ archive: OpaquePointer?, _ client: UnsafeMutableRawPointer?, _ bytes: UnsafeRawPointer?, _ length: Int
) -> Int {
    let sink = Unmanaged<OutputSink>.fromOpaque(client!).takeUnretainedValue()
    guard sink.write(UnsafeRawBufferPointer(start: bytes, count: length)) else {
        mp_archive_set_write_error(archive, sink.failure)
        return -1
    }
    return length
}

private func sinkClose(_ archive: OpaquePointer?, _ client: UnsafeMutableRawPointer?) -> Int32 {
    let sink = Unmanaged<OutputSink>.fromOpaque(client!).takeUnretainedValue()
    guard sink.flush() else {
        mp_archive_set_write_error(archive, sink.failure)
        return ARCHIVE_FATAL
    }
    return ARCHIVE_OK
}
