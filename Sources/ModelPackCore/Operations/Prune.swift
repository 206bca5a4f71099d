extension Operations {
    /// `prune`: the blob cache down to `bytes`, least recently used first (`cache prune` for all of the cache).
    public static func prune(keeping bytes: Int64, cache: BlobCache = BlobCache()) throws -> CacheStore.PruneResult {
        try CacheStore.prune(keeping: bytes, in: FileSystem.parentDirectory(of: cache.root), areas: [.blobs])
    }
}
