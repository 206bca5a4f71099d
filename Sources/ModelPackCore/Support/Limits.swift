/// Every bound modelpack puts on untrusted input, in one place (Docs/SECURITY.md lists them with
/// their defaults and flags). A command makes them once, from its flags, and hands them to the
/// operation in its `RunContext`; each reader is given the bound it enforces.
public struct Limits: Sendable, Codable, Equatable {
    /// Files, total size, expansion ratio and path length of a bundle.
    public var unpack = UnpackLimits()
    /// metadata.yaml: size, nesting, nodes after alias expansion.
    public var yaml = YAMLLimits()
    /// A pickle scan: opcodes, stack and memo entries.
    public var pickle = PickleLimits()

    public init() {}

    /// The largest text file the checks read (requirements.txt, an include, interface.py).
    public static let maxTextBytes = 4 << 20
}

/// Bounds that stop archive bombs before a byte is written. Every bound is checked against the
/// manifest first, then every entry's data is cut off at the size the manifest gives it.
public struct UnpackLimits: Sendable, Codable, Equatable {
    /// Files in one bundle.
    public var maxEntries: Int = 100_000
    /// Total uncompressed bytes.
    public var maxTotalSize: Int64 = 256 << 30
    /// Uncompressed bytes per byte of archive, checked once the total passes `ratioFloor`.
    /// DEFLATE cannot exceed about 1032:1, so a larger ratio is a bomb or a lie.
    public var maxRatio: Int64 = 1_000
    public var ratioFloor: Int64 = 1 << 30
    /// Bytes in a path inside a bundle (a component stays at most 255, the file-system limit).
    public var maxPathBytes = 1024

    public init() {}
}

/// Bounds on what the YAML reader accepts.
public struct YAMLLimits: Sendable, Codable, Equatable {
    public var maxBytes: Int = 1 << 20
    public var maxDepth: Int = 64
    /// Nodes after alias expansion.
    public var maxNodes: Int = 100_000

    public init() {}
}

/// Bounds on a pickle scan (documented; raised with flags where the CLI exposes them).
public struct PickleLimits: Sendable, Codable, Equatable {
    public var maxOpcodes = 500_000_000
    public var maxStack = 1_000_000
    public var maxMemo = 10_000_000
    /// Stop after this many concatenated pickles (nil: until the end of the stream).
    public var maxPickles: Int? = nil
    public init() {}
}
