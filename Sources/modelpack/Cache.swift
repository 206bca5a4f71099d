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

struct CacheList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Every entry of the cache: its size, last use and whether it is in use.")

    @OptionGroup var report: OutputOptions

    func validate() throws {
        if report.resolved == .sarif { throw ValidationError("cache list reports in text or json") }
    }

    func run() throws {
        let root = CacheDirectory.path()
        let entries = try Operations.cacheList(root: root)
        let cap = CacheStore.cap()
        Output.result(
            report.resolved == .json
                ? CacheReport.json(entries, root: root, cap: cap) : CacheReport.text(entries, root: root, cap: cap))
    }
}

struct CachePrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the least recently used entries not in use until the cache fits a size.")

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

    @OptionGroup var report: OutputOptions

    func validate() throws {
        if report.resolved == .sarif { throw ValidationError("cache prune reports in text or json") }
    }

    func run() throws {
        let bytes: Int64
        if let keep {
            guard let parsed = ByteCount.parse(keep) else {
                throw ModelPackError.usage("--keep '\(keep)' is not a size (e.g. 500MiB, 10GiB)")
            }
            bytes = parsed
        } else {
            bytes = CacheStore.cap()
        }
        var areas = CacheStore.Area.allCases
        if let only {
            areas = try only.split(separator: ",").map {
                guard let area = CacheStore.Area(rawValue: $0.trimmingCharacters(in: .whitespaces)) else {
                    throw ModelPackError.usage(
                        "--only '\($0)' is not an area of the cache (\(CacheStore.Area.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                return area
            }
        }
        let root = CacheDirectory.path()
        let result = try Operations.cachePrune(keeping: bytes, areas: areas, dryRun: dryRun, root: root)
        Output.result(
            report.resolved == .json
                ? CacheReport.json(result, root: root, dryRun: dryRun)
                : CacheReport.text(result, root: root, dryRun: dryRun))
    }
}
