import ArgumentParser
import ModelPackCore

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List or prune the cache that serve, predict and pull fill.",
        discussion: """
            The cache is MODELPACK_CACHE (else $XDG_CACHE_HOME/modelpack or ~/.cache/modelpack): unpacked \
            bundles (serve/), virtualenvs keyed by their Python and requirements (envs/), bundles the batch \
            driver unpacked (bundles/), registry blobs (blobs/) and remembered syntax checks (compile/). \
            After a serve, predict or pull that added to it, it is held to MODELPACK_CACHE_MAX (default \
            20GiB), least recently used first. An entry in use (a running serve or predict) is never removed.
            """,
        subcommands: [CacheList.self, CachePrune.self])
}

struct CacheList: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Every entry of the cache: its size, last use and whether it is in use.")

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(try Operations.cacheList(root: CacheDirectory.path()))
    }
}

struct CachePrune: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract:
            "Remove unfinished virtualenvs, then the least recently used entries not in use until the cache fits a size."
    )

    @Option(
        help:
            "Keep at most this much (e.g. 10GiB; 0 removes every entry not in use). Default: MODELPACK_CACHE_MAX, else 20GiB."
    )
    var keep: String?

    @Option(
        help: ArgumentHelp(
            "Only these areas, comma-separated: \(CacheStore.Area.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "areas"))
    var only: String?

    @Flag(help: "Say what would be removed; remove nothing.")
    var dryRun = false

    @OptionGroup var report: DataOutputOptions

    func validate() throws {
        if let keep, ByteCount.parse(keep) == nil {
            throw ValidationError("--keep '\(keep)' is not a size (e.g. 500MiB, 10GiB)")
        }
        _ = try areas()
    }

    /// The areas --only names.
    func areas() throws -> [CacheStore.Area] {
        guard let only else { return CacheStore.Area.allCases }
        return try only.split(separator: ",").map {
            guard let area = CacheStore.Area(rawValue: $0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError(
                    "--only '\($0)' is not an area of the cache (\(CacheStore.Area.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            return area
        }
    }

    func run() throws {
        let bytes = keep.flatMap(ByteCount.parse) ?? CacheStore.cap()
        try report.emit(
            try Operations.cachePrune(keeping: bytes, areas: try areas(), dryRun: dryRun, root: CacheDirectory.path()))
    }
}
