/// One PEP 508 dependency specification.
package struct Requirement: Sendable {
    /// The name as written.
    package let name: String
    /// Extras as written, in order.
    package let extras: [String]
    package let specifiers: [Specifier]
    /// For `name @ url` requirements.
    package let url: String?
    /// The environment marker, with the spacing and quotes normalised (`python_version < "3.9"`).
    package let marker: String?
    /// 0-based offsets into the parsed text, for diagnostics.
    package let nameOffset: Int
    package let specifierOffset: Int?

    /// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
    package var canonicalName: String { Self.canonicalize(name) }

    package static func canonicalize(_ name: String) -> String {
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
    package var pinnedVersion: PEP440Version? {
        for s in specifiers where (s.op == .equal && !s.isWildcard) || s.op == .arbitrary {
            if let v = s.version ?? PEP440Version(s.versionText) { return v }
        }
        return nil
    }
}

/// A PEP 508 syntax error at a 0-based offset of the parsed text.
package struct RequirementSyntaxError: Error, Equatable, Sendable {
    package let offset: Int
    package let message: String
}
