/// Every bound modelpack puts on untrusted input, in one place (Docs/SECURITY.md lists them with
/// their defaults and flags). A command makes them once, from its flags, and hands them to the
/// operation in its `RunContext`; each reader is given the bound it enforces.
package struct Limits: Sendable, Codable, Equatable {
    /// Files, total size, expansion ratio and path length of a bundle.
    package var unpack = UnpackLimits()
    /// metadata.yaml: size, nesting, nodes after alias expansion.
    package var yaml = YAMLLimits()
    /// A pickle scan: opcodes, stack and memo entries.
    package var pickle = PickleLimits()

    package init() {}

    /// The largest text file the checks read (requirements.txt, an include, interface.py).
    package static let maxTextBytes = 4 << 20
}

/// Bounds that stop archive bombs before a byte is written. Every bound is checked against the
/// manifest first, then every entry's data is cut off at the size the manifest gives it.
package struct UnpackLimits: Sendable, Codable, Equatable {
    /// Files in one bundle.
    package var maxEntries: Int = 100_000
    /// Total uncompressed bytes.
    package var maxTotalSize: Int64 = 256 << 30
    /// Uncompressed bytes per byte of archive, checked once the total passes `ratioFloor`.
    /// DEFLATE cannot exceed about 1032:1, so a larger ratio is a bomb or a lie.
    package var maxRatio: Int64 = 1_000
    package var ratioFloor: Int64 = 1 << 30
    /// Bytes in a path inside a bundle (a component stays at most 255, the file-system limit).
    package var maxPathBytes = 1024

    package init() {}
}

/// Bounds on what the YAML reader accepts.
package struct YAMLLimits: Sendable, Codable, Equatable {
    package var maxBytes: Int = 1 << 20
    package var maxDepth: Int = 64
    /// Nodes after alias expansion.
    package var maxNodes: Int = 100_000

    package init() {}
}

/// Bounds on a pickle scan (documented; raised with flags where the CLI exposes them).
package struct PickleLimits: Sendable, Codable, Equatable {
    package var maxOpcodes = 500_000_000
    package var maxStack = 1_000_000
    package var maxMemo = 10_000_000
    /// Stop after this many concatenated pickles (nil: until the end of the stream).
    package var maxPickles: Int? = nil
    package init() {}
}
