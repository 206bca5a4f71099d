/// The cache's entries, for `cache list`.
package struct CacheListResult: Sendable {
    package let entries: [CacheStore.Entry]
    package let root: String
    /// The size the cache is held to (MODELPACK_CACHE_MAX).
    package let cap: Int64
}

/// What `cache prune` removed (or, with `dryRun`, would remove).
package struct CachePruneResult: Sendable {
    package let result: CacheStore.PruneResult
    package let root: String
    package let dryRun: Bool
}

extension Operations {
    /// `cache list`: every entry of the cache, most recently used first.
    package static func cacheList(root: String = CacheDirectory.path()) throws -> CacheListResult {
        CacheListResult(entries: try CacheStore.entries(in: root), root: root, cap: CacheStore.cap())
    }

    /// `cache prune`: the least recently used entries not in use, until at most `bytes` remain.
    package static func cachePrune(
        keeping bytes: Int64, areas: [CacheStore.Area] = CacheStore.Area.allCases, dryRun: Bool,
        root: String = CacheDirectory.path()
    ) throws -> CachePruneResult {
        CachePruneResult(
            result: try CacheStore.prune(keeping: bytes, in: root, areas: areas, dryRun: dryRun), root: root,
            dryRun: dryRun)
    }
}
