/// Fetching many blobs of one artifact into the cache.
extension BlobCache {
    /// Every blob of `digests` into the cache, `concurrency` at a time; the path of each, and what
    /// moved.
    func fetchAll(
        _ digests: [String], _ byDigest: [String: OCIDescriptor], client: RegistryClient, concurrency: Int,
        progress: TransferObserver?
    ) throws -> ([String: String], [BlobTransfer]) {
        let cache = self
        if let progress {
            progress(.total(digests.filter { cache.cached($0) == nil }.reduce(0) { $0 + (byDigest[$1]?.size ?? 0) }))
        }
        let fetched = try RegistryTransfer.concurrently(digests, limit: concurrency) { digest in
            let descriptor = byDigest[digest]!
            let (path, bytes) = try cache.fetch(descriptor, from: client, progress: progress)
            return (
                path,
                BlobTransfer(
                    digest: digest, path: descriptor.filepath ?? "", size: descriptor.size,
                    action: bytes > 0 ? .downloaded : .cached, bytes: bytes)
            )
        }
        return (fetched.mapValues(\.0), fetched.values.map(\.1))
    }
}
