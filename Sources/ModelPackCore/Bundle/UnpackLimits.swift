/// The unpack limits against a bundle's manifest (the struct is Support's, with every limit).
extension UnpackLimits {
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
