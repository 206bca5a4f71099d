extension Operations {
    /// `cache list`: every entry of the cache, most recently used first.
    public static func cacheList(root: String = CacheDirectory.path()) throws -> [CacheStore.Entry] {
        try CacheStore.entries(in: root)
    }

    /// `cache prune`: the least recently used entries not in use, until at most `bytes` remain.
    public static func cachePrune(
        keeping bytes: Int64, areas: [CacheStore.Area] = CacheStore.Area.allCases, dryRun: Bool,
        root: String = CacheDirectory.path()
    ) throws -> CacheStore.PruneResult {
        try CacheStore.prune(keeping: bytes, in: root, areas: areas, dryRun: dryRun)
    }
}
