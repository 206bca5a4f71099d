/// What `prune` removed from the blob cache.
package struct BlobPruneResult: Sendable {
    package let result: CacheStore.PruneResult
    /// The blob cache's folder.
    package let root: String
}

extension Operations {
    /// `prune`: the blob cache down to `bytes`, least recently used first (`cache prune` for all of the cache).
    package static func prune(keeping bytes: Int64, cache: BlobCache = BlobCache()) throws -> BlobPruneResult {
        BlobPruneResult(
            result: try CacheStore.prune(
                keeping: bytes, in: FileSystem.parentDirectory(of: cache.root), areas: [.blobs]),
            root: cache.root)
    }
}
