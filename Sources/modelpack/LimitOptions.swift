import ArgumentParser
import Foundation
import ModelPackCore

/// The bounds on untrusted input (Docs/SECURITY.md), in groups so that each command takes only
/// the flags it enforces. They sit in hidden option groups (`--help-hidden` shows them), so each
/// command's own options come first. `ModelPack.main` runs the command with them set.
struct BundleLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Refuse a bundle or model directory with more files than this.", valueName: "n"))
    var maxEntries = Limits().unpack.maxEntries

    @Option(help: ArgumentHelp("Refuse a bundle or model directory larger than this (e.g. 512G).", valueName: "size"))
    var maxTotalSize = ByteSize(Limits().unpack.maxTotalSize)

    @Option(help: ArgumentHelp("Refuse paths inside a bundle longer than this many bytes.", valueName: "n"))
    var maxPathLength = Limits().unpack.maxPathBytes

    func validate() throws {
        try atLeastOne(("--max-entries", Int64(maxEntries)), ("--max-total-size", maxTotalSize.bytes))
        try atLeastOne(("--max-path-length", Int64(maxPathLength)))
    }

    func apply(to limits: inout Limits) {
        limits.unpack.maxEntries = maxEntries
        limits.unpack.maxTotalSize = maxTotalSize.bytes
        limits.unpack.maxPathBytes = maxPathLength
    }
}

/// The expansion bound, for commands that read an archive (not build, which writes one).
struct RatioLimitOption: ParsableArguments {
    @Option(
        help: ArgumentHelp("Refuse a bundle over 1 GiB that expands more than this many times.", valueName: "n"))
    var maxRatio = Limits().unpack.maxRatio

    func validate() throws { try atLeastOne(("--max-ratio", maxRatio)) }
    func apply(to limits: inout Limits) { limits.unpack.maxRatio = maxRatio }
}

struct YAMLLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Refuse a metadata.yaml larger than this (e.g. 4M).", valueName: "size"))
    var maxYamlSize = ByteSize(Int64(Limits().yaml.maxBytes))

    @Option(help: ArgumentHelp("Refuse YAML nested deeper than this.", valueName: "n"))
    var maxYamlDepth = Limits().yaml.maxDepth

    @Option(help: ArgumentHelp("Refuse YAML with more nodes than this after alias expansion.", valueName: "n"))
    var maxYamlNodes = Limits().yaml.maxNodes

    func validate() throws {
        try atLeastOne(
            ("--max-yaml-size", maxYamlSize.bytes), ("--max-yaml-depth", Int64(maxYamlDepth)),
            ("--max-yaml-nodes", Int64(maxYamlNodes)))
        if maxYamlSize.bytes > Int64(Int32.max) { throw ValidationError("--max-yaml-size must be under 2 GiB") }
    }

    func apply(to limits: inout Limits) {
        limits.yaml.maxBytes = Int(maxYamlSize.bytes)
        limits.yaml.maxDepth = maxYamlDepth
        limits.yaml.maxNodes = maxYamlNodes
    }
}

struct PickleLimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Stop a pickle scan after this many opcodes (a finding).", valueName: "n"))
    var maxPickleOpcodes = Limits().pickle.maxOpcodes

    @Option(help: ArgumentHelp("Stop a pickle scan when its memo holds more entries than this.", valueName: "n"))
    var maxPickleMemo = Limits().pickle.maxMemo

    @Option(help: ArgumentHelp("Stop a pickle scan when its stack holds more entries than this.", valueName: "n"))
    var maxPickleStack = Limits().pickle.maxStack

    func validate() throws {
        try atLeastOne(
            ("--max-pickle-opcodes", Int64(maxPickleOpcodes)), ("--max-pickle-memo", Int64(maxPickleMemo)),
            ("--max-pickle-stack", Int64(maxPickleStack)))
    }

    func apply(to limits: inout Limits) {
        limits.pickle.maxOpcodes = maxPickleOpcodes
        limits.pickle.maxMemo = maxPickleMemo
        limits.pickle.maxStack = maxPickleStack
    }
}

/// The limits of a command that reads a bundle's archive without judging the model (verify,
/// unpack, sign).
struct ArchiveLimitOptions: ParsableArguments {
    @OptionGroup var bundle: BundleLimitOptions
    @OptionGroup var ratio: RatioLimitOption

    var limits: Limits {
        var limits = Limits()
        bundle.apply(to: &limits)
        ratio.apply(to: &limits)
        return limits
    }
}

/// Every limit a command that reads and judges a whole model takes (validate, inspect,
/// dockerfile, serve): the archive's, and the YAML and pickle bounds.
struct ModelLimitOptions: ParsableArguments {
    @OptionGroup var archive: ArchiveLimitOptions
    @OptionGroup var yaml: YAMLLimitOptions
    @OptionGroup var pickle: PickleLimitOptions

    var limits: Limits {
        var limits = archive.limits
        yaml.apply(to: &limits)
        pickle.apply(to: &limits)
        return limits
    }
}

private func atLeastOne(_ values: (String, Int64)...) throws {
    for (flag, value) in values where value < 1 {
        throw ValidationError("\(flag) must be at least 1")
    }
}

/// A command whose input is bounded: `limits` is what its limit flags say.
protocol LimitedCommand: ParsableCommand {
    var limits: Limits { get }
}

extension ParsableCommand {
    /// What the command runs with: its limit flags' limits (the defaults for a command without
    /// any), log lines on stderr, the interpreter that compiles interface.py, and whether stderr
    /// is a terminal. Every operation is given it; nothing reaches the core another way.
    var context: RunContext {
        var context = RunContext(
            limits: (self as? any LimitedCommand)?.limits ?? Limits(), log: { Output.error($0) },
            python: RunContext.defaultPython())
        context.interactive = isatty(2) != 0
        return context
    }
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
