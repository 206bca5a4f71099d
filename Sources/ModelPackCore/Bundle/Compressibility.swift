internal import CZlib

/// Decides how a zip entry is stored: deflate for text, for small artifacts and for artifacts that
/// shrink; store for large artifacts (so they can be memory-mapped from the zip and written at disk
/// speed) and for incompressible ones (weights, already-compressed data), judged by deflating a
/// sample with zlib. An artifact under `trialThreshold` is deflated without a trial: the trial would
/// deflate the whole file just before libarchive deflates it again, and deflate keeps an
/// incompressible file within a few bytes of its size (stored blocks), which at that size costs
/// neither space nor reading speed.
///
/// One deflate stream serves every sample of a build (reset, not re-made): a fresh stream
/// allocates about 256 KiB, which glibc maps and the kernel zeroes page by page, and 5,000 small
/// files paid that 5,000 times (0.4 s, more than the rest of the build).
final class Compressibility {
    /// Artifacts at least this large are stored without trying.
    static let storeThreshold: Int64 = 512 << 20
    /// Artifacts smaller than this are deflated without trying (format 2).
    static let trialThreshold: Int64 = 64 << 10
    static let sampleSize = 256 * 1024
    /// Deflate only when the sample shrinks to at most this fraction.
    static let worthwhileRatio = 0.9

    private let stream: UnsafeMutablePointer<z_stream>
    private let ready: Bool
    private var output: [UInt8]

    /// Format 1 tried every artifact; a format 1 bundle written again (a pull) keeps its layout.
    private let trialsEveryArtifact: Bool

    init(formatVersion: Int) {
        trialsEveryArtifact = formatVersion < 2
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Level 6, 15 window bits, memory level 8: what compress2(…, 6) uses.
        ready = deflateInit_(stream, 6, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        output = [UInt8](repeating: 0, count: ready ? Int(deflateBound(stream, uLong(Self.sampleSize))) : 0)
    }

    deinit {
        if ready { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `sample` is the file's first bytes (the first `sampleSize` are used).
    func method(for role: FileRole, size: Int64, sample: UnsafeRawBufferPointer) -> ZipMethod {
        if role != .artifact { return .deflate }
        if size >= Self.storeThreshold || size == 0 { return .store }
        if size < Self.trialThreshold && !trialsEveryArtifact { return .deflate }
        let sample = UnsafeRawBufferPointer(rebasing: sample[0..<min(sample.count, Self.sampleSize)])
        guard let compressed = compressedSize(sample), sample.count > 0 else { return .store }
        return Double(compressed) <= Double(sample.count) * Self.worthwhileRatio ? .deflate : .store
    }

    private func compressedSize(_ sample: UnsafeRawBufferPointer) -> Int? {
        guard ready, deflateReset(stream) == Z_OK else { return nil }
        return output.withUnsafeMutableBufferPointer { out in
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: sample.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(sample.count)
            stream.pointee.next_out = out.baseAddress
            stream.pointee.avail_out = uInt(out.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
            return deflate(stream, Z_FINISH) == Z_STREAM_END ? Int(stream.pointee.total_out) : nil
        }
    }
}
