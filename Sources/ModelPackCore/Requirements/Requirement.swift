/// One PEP 508 dependency specification.
public struct Requirement: Sendable {
    /// The name as written.
    public let name: String
    /// Extras as written, in order.
    public let extras: [String]
    public let specifiers: [Specifier]
    /// For `name @ url` requirements.
    public let url: String?
    /// The environment marker, with the spacing and quotes normalised (`python_version < "3.9"`).
    public let marker: String?
    /// 0-based offsets into the parsed text, for diagnostics.
    public let nameOffset: Int
    public let specifierOffset: Int?

    /// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
    public var canonicalName: String { Self.canonicalize(name) }

    public static func canonicalize(_ name: String) -> String {
        var out = ""
        var lastWasSeparator = false
        for ch in name.lowercased() {
            if ch == "-" || ch == "_" || ch == "." {
                if !lastWasSeparator { out.append("-") }
                lastWasSeparator = true
            } else {
                out.append(ch)
                lastWasSeparator = false
            }
        }
        return out
    }

    /// The exact version pinned by `==V` (no wildcard) or `===V`, if any.
    public var pinnedVersion: PEP440Version? {
        for s in specifiers where (s.op == .equal && !s.isWildcard) || s.op == .arbitrary {
            if let v = s.version ?? PEP440Version(s.versionText) { return v }
        }
        return nil
    }
}

/// A PEP 508 syntax error at a 0-based offset of the parsed text.
public struct RequirementSyntaxError: Error, Equatable, Sendable {
    public let offset: Int
    public let message: String
}
