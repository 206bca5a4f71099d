import ArgumentParser
import Foundation
import ModelPackCore

struct Prune: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Shrink the blob cache that pull fills, least recently used first.",
        discussion: """
            The same as 'modelpack cache prune --only blobs' with --keep 0 by default. The cache is under \
            MODELPACK_CACHE (else $XDG_CACHE_HOME/modelpack or ~/.cache/modelpack).
            """)

    @Option(help: "Keep at most this much (e.g. 10GiB; 0 empties the cache).")
    var keep: String = "0"

    @OptionGroup var report: DataOutputOptions

    func validate() throws {
        if ByteCount.parse(keep) == nil { throw ValidationError("--keep '\(keep)' is not a size (e.g. 500MiB, 10GiB)") }
    }

    func run() throws {
        try report.emit(try Operations.prune(keeping: ByteCount.parse(keep) ?? 0, cache: BlobCache()))
    }
}
