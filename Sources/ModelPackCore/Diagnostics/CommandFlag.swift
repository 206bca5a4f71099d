/// The modelpack flags the core's messages name (how to raise a limit, allow, trust or replace):
/// one table, so that the core refers to a flag only through it. The CLI declares the flags
/// (Sources/modelpack) and refuses their combinations; ArchitectureTests checks that every case
/// here is one of its flags and that no other mention of a flag is in the core.
enum CommandFlag: String, CaseIterable, CustomStringConvertible {
    case allowUnsafe = "allow-unsafe"
    case baseImage = "base-image"
    case caFile = "ca-file"
    case container = "container"
    case cuda = "cuda"
    case engineVersion = "engine-version"
    case force = "force"
    case host = "host"
    case key = "key"
    case maxEntries = "max-entries"
    case maxPathLength = "max-path-length"
    case maxPickleMemo = "max-pickle-memo"
    case maxPickleOpcodes = "max-pickle-opcodes"
    case maxPickleStack = "max-pickle-stack"
    case maxRatio = "max-ratio"
    case maxTotalSize = "max-total-size"
    case maxYamlDepth = "max-yaml-depth"
    case maxYamlNodes = "max-yaml-nodes"
    case maxYamlSize = "max-yaml-size"
    case provenanceKey = "provenance-key"
    case python = "python"
    case realmHost = "realm-host"
    case resolve = "resolve"
    case signature = "signature"
    case stallTimeout = "stall-timeout"
    case target = "target"
    case trustedKeys = "trusted-keys"
    case type = "type"
    case unpack = "unpack"

    var description: String { "--" + rawValue }
}
