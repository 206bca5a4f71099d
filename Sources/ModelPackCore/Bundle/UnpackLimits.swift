/// Bounds that stop archive bombs before a byte is written. Every bound is checked against the
/// manifest first, then every entry's data is cut off at the size the manifest gives it.
public struct UnpackLimits: Sendable {
    /// Files in one bundle.
    public var maxEntries: Int = 100_000
    /// Total uncompressed bytes.
    public var maxTotalSize: Int64 = 256 << 30
    /// Uncompressed bytes per byte of archive, checked once the total passes `ratioFloor`.
    /// DEFLATE cannot exceed about 1032:1, so a larger ratio is a bomb or a lie.
    public var maxRatio: Int64 = 1_000
    public var ratioFloor: Int64 = 1 << 30

    public init() {}

    func check(_ manifest: Manifest, archiveSize: Int64, bundle: String) throws {
        if manifest.files.count > maxEntries {
            throw ModelPackError.limitExceeded(
                path: bundle,
                reason: "\(manifest.files.count) files exceed the limit of \(maxEntries) (raise it with --max-entries)")
        }
        let total = manifest.totalSize
        if total > maxTotalSize {
            throw ModelPackError.limitExceeded(
                path: bundle,
                reason:
                    "\(total) bytes uncompressed exceed the limit of \(maxTotalSize) (raise it with --max-total-size)")
        }
        if total > ratioFloor, total / max(archiveSize, 1) > maxRatio {
            throw ModelPackError.limitExceeded(
                path: bundle,
                reason:
                    "expands \(total / max(archiveSize, 1)):1, more than \(maxRatio):1 (a compression bomb? raise it with --max-ratio)"
            )
        }
    }
}
