import ArgumentParser
import Foundation
import ModelPackCore

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Shrink the blob cache that pull fills, least recently used first.",
        discussion: """
            The same as 'modelpack cache prune --only blobs' with --keep 0 by default. The cache is under \
            MODELPACK_CACHE (else $XDG_CACHE_HOME/modelpack or ~/.cache/modelpack).
            """)

    @Option(help: "Keep at most this much (e.g. 10GiB; 0 empties the cache).")
    var keep: String = "0"

    func run() throws {
        guard let bytes = ByteCount.parse(keep) else {
            throw ModelPackError.usage("--keep '\(keep)' is not a size (e.g. 500MiB, 10GiB)")
        }
        let cache = BlobCache()
        let result = try Operations.prune(keeping: bytes, cache: cache)
        Output.result(
            "removed \(result.removed.count) blob(s), \(ByteCount.human(result.freedBytes)); "
                + "\(ByteCount.human(result.keptBytes)) kept in \(cache.root)\n")
    }
}
