/// The unpack limits against what a bundle would hold (the struct is Support's, with every limit):
/// a bundle's manifest when one is read, a model directory's files when one is packed or checked,
/// so that build never writes what unpack would refuse.
extension UnpackLimits {
    func check(_ manifest: Manifest, archiveSize: Int64, bundle: String) throws {
        try check(files: manifest.files.count, totalSize: manifest.totalSize, archiveSize: archiveSize, path: bundle)
    }

    /// `archiveSize` is nil for a directory: there is no expansion ratio to judge.
    func check(files: Int, totalSize total: Int64, archiveSize: Int64?, path: String) throws {
        if files > maxEntries {
            throw ModelPackError.limitExceeded(
                path: path,
                reason: "\(files) files exceed the limit of \(maxEntries) (raise it with \(CommandFlag.maxEntries))")
        }
        if total > maxTotalSize {
            throw ModelPackError.limitExceeded(
                path: path,
                reason:
                    "\(total) bytes\(archiveSize == nil ? "" : " uncompressed") exceed the limit of \(maxTotalSize) (raise it with \(CommandFlag.maxTotalSize))"
            )
        }
        if let archiveSize, total > ratioFloor, total / max(archiveSize, 1) > maxRatio {
            throw ModelPackError.limitExceeded(
                path: path,
                reason:
                    "expands \(total / max(archiveSize, 1)):1, more than \(maxRatio):1 (a compression bomb? raise it with \(CommandFlag.maxRatio))"
            )
        }
    }
}
