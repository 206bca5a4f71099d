internal import CZlib

/// Reads a zip artifact (a PyTorch checkpoint, an .npz, a .keras file) the way the loaders do:
/// member names from the central directory, data located through the local header, stored or
/// deflated, with flag bits and CRCs ignored (PyTorch's reader ignores them, so a scanner that
/// trusted them could be shown one thing while the loader reads another). Zip64 is supported.
final class ZipView {
    struct Member {
        let name: String
        let method: UInt16
        let flags: UInt16
        let compressedSize: Int64
        let size: Int64
        let localHeaderOffset: Int64
        /// The CRC-32 the central directory gives.
        let crc32: UInt32
    }

    struct Malformed: Error { let reason: String }

    let file: InputFile
    let size: Int64
    private(set) var members: [Member] = []

    /// Members a central directory may list (an artifact's; a bundle's is its entry limit).
    let maxMembers: Int

    convenience init(path: String, size: Int64) throws {
        try self.init(file: InputFile(path: path), size: size)
    }

    init(file: InputFile, size: Int64, maxMembers: Int = 1_000_000) throws {
        self.file = file
        self.size = size
        self.maxMembers = maxMembers
        try readCentralDirectory()
    }

    private func bytes(at offset: Int64, _ count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + Int64(count) <= size else {
            throw Malformed(reason: "a structure runs past the end of the file")
        }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = try out.withUnsafeMutableBytes { raw in
                try file.read(at: offset + Int64(done), into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
            }
            if n == 0 { throw Malformed(reason: "unexpected end of file") }
            done += n
        }
        return out
    }

    /// The little-endian integer of `width` bytes at `at` (zip's byte order).
    static func le(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
        return v
    }

    private func readCentralDirectory() throws {
        let tailLength = Int(min(size, 65_557))
        let tail = try bytes(at: size - Int64(tailLength), tailLength)
        guard
            let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: {
                Self.le(tail, $0, 4) == 0x0605_4b50
            })
        else {
            throw Malformed(reason: "no end-of-central-directory record")
        }
        var count = Self.le(tail, eocd + 10, 2)
        var cdSize = Self.le(tail, eocd + 12, 4)
        var cdOffset = Self.le(tail, eocd + 16, 4)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF, eocd >= 20,
            Self.le(tail, eocd - 20, 4) == 0x0706_4b50
        {
            let zip64 = Int64(Self.le(tail, eocd - 20 + 8, 8))
            let record = try bytes(at: zip64, 56)
            guard Self.le(record, 0, 4) == 0x0606_4b50 else { throw Malformed(reason: "bad zip64 end record") }
            count = Self.le(record, 32, 8)
            cdSize = Self.le(record, 40, 8)
            cdOffset = Self.le(record, 48, 8)
        }
        // Read into memory whole: at most 1 GiB, or 2 KiB a member where more members are allowed.
        let maxDirectory = min(UInt64(size), max(1 << 30, UInt64(maxMembers) * 2048))
        guard count <= UInt64(maxMembers), cdSize <= maxDirectory else {
            throw Malformed(reason: "implausible central directory (\(count) members, \(cdSize) bytes)")
        }
        let cd = try bytes(at: Int64(cdOffset), Int(cdSize))
        var p = 0
        for _ in 0..<count {
            guard p + 46 <= cd.count, Self.le(cd, p, 4) == 0x0201_4b50 else {
                throw Malformed(reason: "bad central directory entry")
            }
            let nameLength = Int(Self.le(cd, p + 28, 2)), extraLength = Int(Self.le(cd, p + 30, 2))
            let commentLength = Int(Self.le(cd, p + 32, 2))
            guard p + 46 + nameLength + extraLength <= cd.count else {
                throw Malformed(reason: "bad central directory entry")
            }
            let name = String(decoding: cd[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            var compressed = Int64(Self.le(cd, p + 20, 4)), uncompressed = Int64(Self.le(cd, p + 24, 4))
            var local = Int64(Self.le(cd, p + 42, 4))
            // zip64 extra field: the values that are 0xFFFFFFFF above, in order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = Self.le(cd, e, 2), length = Int(Self.le(cd, e + 2, 2))
                if id == 1 {
                    var q = e + 4
                    if uncompressed == 0xFFFF_FFFF, q + 8 <= e + 4 + length {
                        uncompressed = Int64(Self.le(cd, q, 8)); q += 8
                    }
                    if compressed == 0xFFFF_FFFF, q + 8 <= e + 4 + length {
                        compressed = Int64(Self.le(cd, q, 8)); q += 8
                    }
                    if local == 0xFFFF_FFFF, q + 8 <= e + 4 + length { local = Int64(Self.le(cd, q, 8)) }
                }
                e += 4 + length
            }
            members.append(
                Member(
                    name: name, method: UInt16(Self.le(cd, p + 10, 2)), flags: UInt16(Self.le(cd, p + 8, 2)),
                    compressedSize: compressed, size: uncompressed, localHeaderOffset: local,
                    crc32: UInt32(Self.le(cd, p + 16, 4))))
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    /// A reader of the member's uncompressed bytes.
    func reader(for member: Member) throws -> ByteReader {
        let local = try bytes(at: member.localHeaderOffset, 30)
        let dataOffset = member.localHeaderOffset + 30 + Int64(Self.le(local, 26, 2)) + Int64(Self.le(local, 28, 2))
        let end = min(dataOffset + member.compressedSize, size)
        var position = dataOffset
        let file = self.file
        let raw: (UnsafeMutableRawBufferPointer) throws -> Int = { out in
            let n = Int(min(Int64(out.count), end - position))
            guard n > 0 else { return 0 }
            let read = try file.read(at: position, into: UnsafeMutableRawBufferPointer(rebasing: out[..<n]))
            position += Int64(read)
            return read
        }
        switch member.method {
        case 0: return ByteReader(source: raw)
        case 8: return ByteReader(source: try Inflater(raw).read)
        default: throw Malformed(reason: "member '\(member.name)' uses compression method \(member.method)")
        }
    }
}

/// Raw-deflate decompression over a pull source, through zlib.
final class Inflater {
    private var stream = z_stream()
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    /// zlib points into this buffer between calls, so it is allocated, not an array.
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
    private var finished = false

    private var initialised = false

    init(_ source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        self.source = source
        let code = inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            throw ZipView.Malformed(reason: "zlib could not start inflating (code \(code))")
        }
        initialised = true
    }

    deinit {
        if initialised { inflateEnd(&stream) }
        input.deallocate()
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, out.count > 0 else { return 0 }
        stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(out.count)
        while stream.avail_out == uInt(out.count) {
            if stream.avail_in == 0 {
                let n = try source(input)
                if n == 0 { finished = true; break }
                stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(n)
            }
            let code = inflate(&stream, Z_NO_FLUSH)
            if code == Z_STREAM_END { finished = true; break }
            if code != Z_OK && code != Z_BUF_ERROR { throw ZipView.Malformed(reason: "corrupt deflate data") }
        }
        return out.count - Int(stream.avail_out)
    }
}
