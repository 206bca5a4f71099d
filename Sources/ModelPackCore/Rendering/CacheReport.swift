import Foundation

/// Renders `cache list` and `cache prune` (and `prune`, the blob cache's).
package enum CacheReport {
    struct Row: Encodable {
        let area: String
        let name: String
        let path: String
        let bytes: Int64
        let lastUsed: String
        let inUse: Bool
        let about: String
    }

    struct Listing: Encodable {
        let schema: String
        let root: String
        let bytes: Int64
        let cap: Int64
        let entries: [Row]
    }

    struct Pruned: Encodable {
        let schema: String
        let root: String
        let dryRun: Bool
        let freedBytes: Int64
        let keptBytes: Int64
        let removed: [Row]
        let kept: [Row]
    }

    static func row(_ entry: CacheStore.Entry) -> Row {
        Row(
            area: entry.area.rawValue, name: entry.name, path: entry.path, bytes: entry.bytes,
            lastUsed: timestamp(entry.lastUsed), inUse: entry.inUse, about: entry.about)
    }

    static func timestamp(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    package static func json(_ entries: [CacheStore.Entry], root: String, cap: Int64) -> String {
        StableJSON.encode(
            Listing(
                schema: "modelpack.cache-list/1", root: root, bytes: entries.reduce(0) { $0 + $1.bytes }, cap: cap,
                entries: entries.map(row))) + "\n"
    }

    package static func text(_ entries: [CacheStore.Entry], root: String, cap: Int64) -> String {
        let total = entries.reduce(0) { $0 + $1.bytes }
        let out =
            "\(root): \(ByteCount.human(total)) in \(entries.count) entries (cap \(ByteCount.human(cap)), MODELPACK_CACHE_MAX)\n"
        guard !entries.isEmpty else { return out }
        // Areas with many small files (blobs, compile) are summed; folders are listed one by one.
        var table = TextTable(header: ["AREA", "SIZE", "LAST USED", "IN USE", "NAME", "WHAT"], rightAligned: [1])
        for area in CacheStore.Area.allCases {
            let here = entries.filter { $0.area == area }
            guard !here.isEmpty else { continue }
            if area == .blobs || area == .compile {
                table.rows.append([
                    area.rawValue, ByteCount.human(here.reduce(0) { $0 + $1.bytes }),
                    timestamp(here.map(\.lastUsed).max() ?? 0), here.contains(where: \.inUse) ? "yes" : "",
                    "\(here.count) files", "",
                ])
            } else {
                for entry in here {
                    table.rows.append([
                        area.rawValue, ByteCount.human(entry.bytes), timestamp(entry.lastUsed),
                        entry.inUse ? "yes" : "", entry.name, entry.about,
                    ])
                }
            }
        }
        return out + table.render() + "\n"
    }

    package static func json(_ result: CacheStore.PruneResult, root: String, dryRun: Bool) -> String {
        StableJSON.encode(
            Pruned(
                schema: "modelpack.cache-prune/1", root: root, dryRun: dryRun, freedBytes: result.freedBytes,
                keptBytes: result.keptBytes, removed: result.removed.map(row), kept: result.kept.map(row))) + "\n"
    }

    package static func text(_ result: CacheStore.PruneResult, root: String, dryRun: Bool) -> String {
        let busy = result.kept.filter(\.inUse).count
        var out =
            (dryRun ? "would remove" : "removed") + " \(result.removed.count) entries, "
            + "\(ByteCount.human(result.freedBytes)); \(ByteCount.human(result.keptBytes)) kept in \(root)"
        if busy > 0 { out += " (\(busy) in use, never removed)" }
        return out + "\n"
    }
}
