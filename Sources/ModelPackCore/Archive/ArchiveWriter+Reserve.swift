#if canImport(Glibc)
    import Glibc
#endif

/// An entry written as zeros of its final length and filled in once the archive is closed: how a
/// bundle's manifest, which holds every file's digest, comes first in the archive though the
/// digests are known only once the files have been read (so each file is read once). Zip and
/// plain tar only: a compressed stream cannot be changed in place. In a zip the entry is stored,
/// and the CRC-32 that libarchive computed over the zeros is put right wherever it was written
/// (the local header or the data descriptor, and the central directory).
struct ReservedEntry {
    let path: String
    let length: Int
    let headerOffset: Int64
    let dataOffset: Int64
    let placeholderCRC: UInt32
}

extension ArchiveWriter {
    static func canReserve(_ format: ContainerFormat) -> Bool { format == .zip || format == .tar }

    /// Writes `header`'s entry (stored, in a zip) with `length` zero bytes as its data.
    func reserve(_ header: ArchiveEntryHeader, length: Int) throws -> ReservedEntry {
        precondition(Self.canReserve(format), "only zip and tar entries can be filled in place")
        var stored = header
        stored.size = Int64(length)
        stored.zipMethod = .store
        let headerOffset = position
        try begin(stored)
        let dataOffset = position
        let zeros = [UInt8](repeating: 0, count: length)
        try zeros.withUnsafeBytes { try write($0) }
        try finishEntry()
        return ReservedEntry(
            path: header.path, length: length, headerOffset: headerOffset, dataOffset: dataOffset,
            placeholderCRC: Self.crc(zeros))
    }

    /// Writes `bytes` (of the reserved length) into `entry` of this archive, once it is closed.
    func fill(_ entry: ReservedEntry, with bytes: [UInt8]) throws {
        precondition(isClosed && bytes.count == entry.length, "fill a closed archive with the reserved length")
        try pwriteAll(bytes, at: entry.dataOffset)
        guard format == .zip else { return }
        let crc = Self.crc(bytes)
        // The local header: its CRC field, or flag bit 3 (the CRC follows the data, in a descriptor).
        let local = try record(at: entry.headerOffset, signature: 0x0403_4b50, length: 30, entry)
        var patched = 0
        if le32(local, 14) == entry.placeholderCRC {
            try patch(crc, at: entry.headerOffset + 14)
            patched += 1
        }
        if le16(local, 6) & 0x8 != 0 {
            let descriptor = entry.dataOffset + Int64(entry.length)
            let d = try record(at: descriptor, signature: 0x0807_4b50, length: 8, entry)
            guard le32(d, 4) == entry.placeholderCRC else { throw unexpected(entry, "data descriptor") }
            try patch(crc, at: descriptor + 4)
            patched += 1
        }
        // The central directory starts where the entries ended; the reserved entry is its first.
        guard let directory = endOfEntries, patched > 0 else { throw unexpected(entry, "local header") }
        let central = try record(at: directory, signature: 0x0201_4b50, length: 46, entry)
        guard le32(central, 16) == entry.placeholderCRC else { throw unexpected(entry, "central directory") }
        try patch(crc, at: directory + 16)
    }

    private static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CRC32.update(0, $0) }
    }

    private func unexpected(_ entry: ReservedEntry, _ part: String) -> ModelPackError {
        ModelPackError.io(
            path: path, reason: "cannot fill in \(entry.path): the zip's \(part) is not where libarchive wrote it")
    }

    private func record(at offset: Int64, signature: UInt32, length: Int, _ entry: ReservedEntry) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
        guard n == length, le32(bytes, 0) == signature else { throw unexpected(entry, "record at \(offset)") }
        return bytes
    }

    private func patch(_ value: UInt32, at offset: Int64) throws {
        try pwriteAll((0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: offset)
    }

    private func pwriteAll(_ bytes: [UInt8], at offset: Int64) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ModelPackError.io(path: path, reason: "write failed: \(FileSystem.errnoMessage())")
                }
                done += n
            }
        }
    }

    private func le16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(ZipView.le(b, at, 2)) }
    private func le32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(ZipView.le(b, at, 4)) }
}
