/// Every bound modelpack puts on untrusted input, in one place (Docs/SECURITY.md lists them with
/// their defaults and flags). A command sets them once, from its flags, for the time it runs:
/// `Limits.$current.withValue(limits) { ... }`; each reader takes its bound from `Limits.current`.
public struct Limits: Sendable {
    /// Files, total size and expansion ratio of a bundle being unpacked.
    public var unpack = UnpackLimits()
    /// Bytes in a path inside a bundle (a component stays at most 255, the file-system limit).
    public var maxPathBytes = 1024
    /// metadata.yaml: size, nesting, nodes after alias expansion.
    public var yaml = YAMLLimits()
    /// A pickle scan: opcodes, stack and memo entries.
    public var pickle = PickleLimits()

    public init() {}

    @TaskLocal public static var current = Limits()
}
