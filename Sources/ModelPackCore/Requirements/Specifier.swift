import Foundation

/// One PEP 440 version specifier clause: `>=1.2`, `==1.*`, `~=2.3`, `===foo`.
package struct Specifier: Hashable, Sendable, CustomStringConvertible {
    package enum Op: String, CaseIterable, Sendable {
        case arbitrary = "===", compatible = "~=", equal = "==", notEqual = "!=", lessEqual = "<="
        case greaterEqual = ">=", less = "<", greater = ">"
    }

    package let op: Op
    /// The version text as written (packaging keeps it so in `str(specifier)`).
    package let versionText: String

    package var description: String { op.rawValue + versionText }

    /// Whether this is a wildcard (`==1.2.*`, `!=1.*`).
    package var isWildcard: Bool { versionText.hasSuffix(".*") }

    /// The version, for every operator but `===` (nil when the text is not a version).
    package var version: PEP440Version? {
        PEP440Version(isWildcard ? String(versionText.dropLast(2)) : versionText)
    }

    // packaging's per-operator grammar: which version forms each operator accepts.
    private static let preRelease = #"(?:[-_\.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_\.]?[0-9]*)?"#
    private static let postRelease = #"(?:(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*))?"#
    private static let devRelease = #"(?:[-_\.]?dev[-_\.]?[0-9]*)?"#
    private static let tail = preRelease + postRelease + devRelease
    private static let equalityForm = try! NSRegularExpression(
        pattern: #"^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:\.\*|"# + tail + #"(?:\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*)?)$"#,
        options: .caseInsensitive)
    private static let compatibleForm = try! NSRegularExpression(
        pattern: #"^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)+"# + tail + "$", options: .caseInsensitive)
    private static let orderedForm = try! NSRegularExpression(
        pattern: #"^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"# + tail + "$", options: .caseInsensitive)
    private static let arbitraryForm = try! NSRegularExpression(pattern: #"^[^\s;)]+$"#)

    /// Parses `op` + `version`; nil with the reason when the version is not allowed for the operator.
    static func make(op: Op, version: String) -> Result<Specifier, SpecifierError> {
        let form: NSRegularExpression
        switch op {
        case .arbitrary: form = arbitraryForm
        case .equal, .notEqual: form = equalityForm
        case .compatible: form = compatibleForm
        default: form = orderedForm
        }
        let range = NSRange(location: 0, length: (version as NSString).length)
        guard form.firstMatch(in: version, range: range) != nil else {
            let reason: String
            switch op {
            case .compatible where PEP440Version(version).map({ $0.release.count < 2 }) == true:
                reason = "'~=' needs a version with at least two release numbers, e.g. ~=1.4"
            case _ where version.hasSuffix(".*"):
                reason = "a '.*' wildcard is allowed only with == and !="
            case _ where version.contains("+") && op != .equal && op != .notEqual:
                reason = "a local version (+...) is allowed only with == and !="
            default:
                reason = "'\(version)' is not a valid version for \(op.rawValue)"
            }
            return .failure(SpecifierError(message: reason))
        }
        return .success(Specifier(op: op, versionText: version))
    }

    struct SpecifierError: Error { let message: String }

    /// Whether `candidate` satisfies this clause (pre-releases allowed).
    package func contains(_ candidate: PEP440Version) -> Bool {
        if op == .arbitrary { return candidate.description.lowercased() == versionText.lowercased() }
        guard let v = version else { return false }
        switch op {
        case .equal: return equals(candidate, v)
        case .notEqual: return !equals(candidate, v)
        case .lessEqual: return candidate.publicVersion <= v
        case .greaterEqual: return candidate.publicVersion >= v
        case .less:
            guard candidate.publicVersion < v else { return false }
            // <V excludes pre-releases of V itself unless V is one.
            if !v.isPrerelease && candidate.isPrerelease && sameRelease(candidate, v) { return false }
            return true
        case .greater:
            guard candidate.publicVersion > v else { return false }
            // >V excludes post-releases of V unless V is one, and local versions of V.
            if v.post == nil && candidate.post != nil && sameRelease(candidate, v) { return false }
            return true
        case .compatible:
            guard candidate.publicVersion >= v else { return false }
            let prefix = Array(v.release.dropLast())
            return candidate.epoch == v.epoch && hasReleasePrefix(candidate, prefix)
        case .arbitrary: return false
        }
    }

    private func equals(_ candidate: PEP440Version, _ v: PEP440Version) -> Bool {
        if isWildcard {
            return candidate.epoch == v.epoch && hasReleasePrefix(candidate, v.release)
        }
        return v.local.isEmpty ? candidate.publicVersion == v : candidate == v
    }

    private func hasReleasePrefix(_ candidate: PEP440Version, _ prefix: [Int]) -> Bool {
        let padded = candidate.release + Array(repeating: 0, count: max(0, prefix.count - candidate.release.count))
        return Array(padded.prefix(prefix.count)) == prefix
    }

    private func sameRelease(_ a: PEP440Version, _ b: PEP440Version) -> Bool {
        PEP440Version(epoch: a.epoch, release: a.release, pre: nil, post: nil, dev: nil, local: [])
            == PEP440Version(epoch: b.epoch, release: b.release, pre: nil, post: nil, dev: nil, local: [])
    }
}
