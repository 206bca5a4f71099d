import ArgumentParser
import ModelPackCore

/// The bounds on untrusted input (Docs/SECURITY.md), the same flags on every command that reads
/// a bundle, a model directory or an artifact. `ModelPack.main` runs the command with them set.
struct LimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Refuse to unpack bundles with more files than this.", valueName: "n"))
    var maxEntries = Limits().unpack.maxEntries

    @Option(
        help: ArgumentHelp("Refuse to unpack bundles larger than this uncompressed (e.g. 512G).", valueName: "size"))
    var maxTotalSize = ByteSize(Limits().unpack.maxTotalSize)

    @Option(
        help: ArgumentHelp("Refuse to unpack bundles over 1 GiB that expand more than this many times.", valueName: "n")
    )
    var maxRatio = Limits().unpack.maxRatio

    @Option(help: ArgumentHelp("Refuse paths inside a bundle longer than this many bytes.", valueName: "n"))
    var maxPathLength = Limits().maxPathBytes

    @Option(help: ArgumentHelp("Refuse a metadata.yaml larger than this (e.g. 4M).", valueName: "size"))
    var maxYamlSize = ByteSize(Int64(Limits().yaml.maxBytes))

    @Option(help: ArgumentHelp("Refuse YAML nested deeper than this.", valueName: "n"))
    var maxYamlDepth = Limits().yaml.maxDepth

    @Option(help: ArgumentHelp("Refuse YAML with more nodes than this after alias expansion.", valueName: "n"))
    var maxYamlNodes = Limits().yaml.maxNodes

    @Option(help: ArgumentHelp("Stop a pickle scan after this many opcodes (a finding).", valueName: "n"))
    var maxPickleOpcodes = Limits().pickle.maxOpcodes

    @Option(help: ArgumentHelp("Stop a pickle scan when its memo holds more entries than this.", valueName: "n"))
    var maxPickleMemo = Limits().pickle.maxMemo

    @Option(help: ArgumentHelp("Stop a pickle scan when its stack holds more entries than this.", valueName: "n"))
    var maxPickleStack = Limits().pickle.maxStack

    func validate() throws {
        let counts = [
            ("--max-entries", Int64(maxEntries)), ("--max-total-size", maxTotalSize.bytes), ("--max-ratio", maxRatio),
            ("--max-path-length", Int64(maxPathLength)), ("--max-yaml-size", maxYamlSize.bytes),
            ("--max-yaml-depth", Int64(maxYamlDepth)), ("--max-yaml-nodes", Int64(maxYamlNodes)),
            ("--max-pickle-opcodes", Int64(maxPickleOpcodes)), ("--max-pickle-memo", Int64(maxPickleMemo)),
            ("--max-pickle-stack", Int64(maxPickleStack)),
        ]
        for (flag, value) in counts where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        if maxYamlSize.bytes > Int64(Int32.max) { throw ValidationError("--max-yaml-size must be under 2 GiB") }
    }

    var limits: Limits {
        var limits = Limits()
        limits.unpack.maxEntries = maxEntries
        limits.unpack.maxTotalSize = maxTotalSize.bytes
        limits.unpack.maxRatio = maxRatio
        limits.maxPathBytes = maxPathLength
        limits.yaml.maxBytes = Int(maxYamlSize.bytes)
        limits.yaml.maxDepth = maxYamlDepth
        limits.yaml.maxNodes = maxYamlNodes
        limits.pickle.maxOpcodes = maxPickleOpcodes
        limits.pickle.maxMemo = maxPickleMemo
        limits.pickle.maxStack = maxPickleStack
        return limits
    }
}

/// A command whose input is bounded by `LimitOptions`.
protocol LimitedCommand: ParsableCommand {
    var limitOptions: LimitOptions { get }
}

/// A byte count given as `123`, `64K`, `512M`, `2G` or `1T` (binary units; `KiB` etc. also read).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    let bytes: Int64

    init(_ bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        guard let bytes = ByteCount.parse(argument) else { return nil }
        self.bytes = bytes
    }

    var description: String { ByteCount.flag(bytes) }
    var defaultValueDescription: String { description }
}
