import Foundation

/// Which repository of a registry each blob was last pushed to or pulled from, kept under the
/// cache directory (`registry/<host>.json`), so that a push to another repository of the same
/// registry mounts a blob instead of uploading it without being told `--from`. At most
/// `maxEntries` are kept, the most recent.
struct BlobLocations {
    static let maxEntries = 20_000

    let path: String
    private(set) var repositories: [String: String] = [:]
    private var order: [String] = []

    init(registry: String, cache: String = CacheDirectory.path()) {
        let name = registry.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        path = cache + "/registry/" + String(name) + ".json"
        guard let bytes = try? FileSystem.readWholeFile(path, limit: 16 << 20),
            let entries = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[String]]
        else { return }
        for entry in entries where entry.count == 2 && ImageReference.isDigest(entry[0]) {
            if repositories.updateValue(entry[1], forKey: entry[0]) == nil { order.append(entry[0]) }
        }
    }

    /// A repository other than `repository` known to hold `digest`.
    func source(of digest: String, besides repository: String) -> String? {
        guard let known = repositories[digest], known != repository else { return nil }
        return known
    }

    mutating func record(_ digests: [String], in repository: String) {
        for digest in digests {
            if repositories.updateValue(repository, forKey: digest) != nil {
                order.removeAll { $0 == digest }
            }
            order.append(digest)
        }
        if order.count > Self.maxEntries {
            for digest in order.prefix(order.count - Self.maxEntries) { repositories[digest] = nil }
            order.removeFirst(order.count - Self.maxEntries)
        }
    }

    /// Written atomically; a failure to remember is not a failure of the push or pull.
    func save() {
        let entries = order.map { [$0, repositories[$0] ?? ""] }
        guard let data = try? JSONSerialization.data(withJSONObject: entries) else { return }
        try? FileSystem.makeDirectories(FileSystem.parentDirectory(of: path))
        try? FileSystem.writeAtomically(Array(data), to: path)
    }
}
