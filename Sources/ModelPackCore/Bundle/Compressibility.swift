internal import CZlib

/// Decides how a zip entry is stored: deflate for text and for artifacts that shrink, store for
/// large artifacts (so they can be memory-mapped from the zip and written at disk speed) and for
/// incompressible ones (weights, already-compressed data), judged by deflating a sample with zlib.
enum Compressibility {
    /// Artifacts at least this large are stored without trying.
    static let storeThreshold: Int64 = 512 << 20
    static let sampleSize = 256 * 1024
    /// Deflate only when the sample shrinks to at most this fraction.
    static let worthwhileRatio = 0.9

    static func method(for role: FileRole, size: Int64, sample: UnsafeRawBufferPointer) -> ZipMethod {
        if role != .artifact { return .deflate }
        if size >= storeThreshold || size == 0 { return .store }
        let bound = Int(compressBound(uLong(sample.count)))
        var out = [UInt8](repeating: 0, count: bound)
        var outLength = uLongf(bound)
        let code = out.withUnsafeMutableBufferPointer { dest in
            compress2(
                dest.baseAddress, &outLength, sample.baseAddress?.assumingMemoryBound(to: Bytef.self),
                uLong(sample.count), 6)
        }
        guard code == Z_OK, sample.count > 0 else { return .store }
        return Double(outLength) <= Double(sample.count) * worthwhileRatio ? .deflate : .store
    }
}
