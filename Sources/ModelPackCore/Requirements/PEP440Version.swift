import Foundation

/// A PEP 440 version: parsed leniently as the spec's normalisation rules allow (case, a leading
/// `v`, `-`/`_`/`.` separators, implicit numbers, alternative spellings), compared as the spec
/// orders versions, printed in normal form.
package struct PEP440Version: Comparable, Hashable, Sendable, CustomStringConvertible {
    package enum PreKind: Int, Comparable, Sendable {
        case a, b, rc
        package static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
        var text: String { ["a", "b", "rc"][rawValue] }
    }

    package let epoch: Int
    package let release: [Int]
    package let pre: (kind: PreKind, number: Int)?
    package let post: Int?
    package let dev: Int?
    /// Local version parts (`+ubuntu.1` → ["ubuntu", "1"]), lower-cased.
    package let local: [String]

    static let pattern = #"""
        ^\s*v?(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\.[0-9]+)*)\
        (?<pre>[-_\.]?(?<prel>alpha|a|beta|b|preview|pre|c|rc)[-_\.]?(?<pren>[0-9]+)?)?\
        (?<post>(?:-(?<postn1>[0-9]+))|(?:[-_\.]?(?<postl>post|rev|r)[-_\.]?(?<postn2>[0-9]+)?))?\
        (?<dev>[-_\.]?(?<devl>dev)[-_\.]?(?<devn>[0-9]+)?)?\
        (?:\+(?<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?\s*$
        """#.replacingOccurrences(of: "\\\n", with: "").replacingOccurrences(of: "\n", with: "")

    static let regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])

    package init?(_ text: String) {
        let ns = text as NSString
        guard let m = Self.regex.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else {
            return nil
        }
        func group(_ name: String) -> String? {
            let r = m.range(withName: name)
            return r.location == NSNotFound ? nil : ns.substring(with: r)
        }
        guard let releaseText = group("release") else { return nil }
        var release: [Int] = []
        for part in releaseText.split(separator: ".") {
            guard let n = Int(part) else { return nil }  // overflow: not representable
            release.append(n)
        }
        epoch = group("epoch").flatMap { Int($0) } ?? 0
        self.release = release
        if let label = group("prel")?.lowercased() {
            let kind: PreKind
            switch label {
            case "a", "alpha": kind = .a
            case "b", "beta": kind = .b
            default: kind = .rc  // c, rc, pre, preview
            }
            pre = (kind, group("pren").flatMap { Int($0) } ?? 0)
        } else {
            pre = nil
        }
        if group("post") != nil {
            post = (group("postn1") ?? group("postn2")).flatMap { Int($0) } ?? 0
        } else {
            post = nil
        }
        dev = group("dev") != nil ? (group("devn").flatMap { Int($0) } ?? 0) : nil
        local =
            group("local").map { $0.lowercased().split(whereSeparator: { "-_.".contains($0) }).map(String.init) } ?? []
    }

    package var isPrerelease: Bool { pre != nil || dev != nil }

    /// The version without its local part.
    package var publicVersion: PEP440Version {
        PEP440Version(epoch: epoch, release: release, pre: pre, post: post, dev: dev, local: [])
    }

    init(epoch: Int, release: [Int], pre: (kind: PreKind, number: Int)?, post: Int?, dev: Int?, local: [String]) {
        self.epoch = epoch
        self.release = release
        self.pre = pre
        self.post = post
        self.dev = dev
        self.local = local
    }

    package var description: String {
        var out = epoch != 0 ? "\(epoch)!" : ""
        out += release.map(String.init).joined(separator: ".")
        if let pre { out += pre.kind.text + String(pre.number) }
        if let post { out += ".post\(post)" }
        if let dev { out += ".dev\(dev)" }
        if !local.isEmpty { out += "+" + local.joined(separator: ".") }
        return out
    }

    // MARK: ordering (packaging's _cmpkey)

    private var trimmedRelease: [Int] {
        var r = release
        while r.count > 1 && r.last == 0 { r.removeLast() }
        return r
    }

    /// -inf / value / +inf encoded as (rank, value).
    private var preKey: (Int, Int, Int) {
        if pre == nil && post == nil && dev != nil { return (0, 0, 0) }  // 1.0.dev0 sorts before 1.0a0
        if let pre { return (1, pre.kind.rawValue, pre.number) }
        return (2, 0, 0)
    }

    private var postKey: (Int, Int) { post.map { (1, $0) } ?? (0, 0) }
    private var devKey: (Int, Int) { dev.map { (0, $0) } ?? (1, 0) }

    package static func == (l: Self, r: Self) -> Bool { compare(l, r) == 0 }

    package func hash(into hasher: inout Hasher) { hasher.combine(description) }

    package static func < (l: Self, r: Self) -> Bool { compare(l, r) < 0 }

    static func compare(_ l: Self, _ r: Self) -> Int {
        if l.epoch != r.epoch { return l.epoch < r.epoch ? -1 : 1 }
        let lr = l.trimmedRelease, rr = r.trimmedRelease
        for i in 0..<max(lr.count, rr.count) {
            let a = i < lr.count ? lr[i] : 0, b = i < rr.count ? rr[i] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        if l.preKey != r.preKey { return l.preKey < r.preKey ? -1 : 1 }
        if l.postKey != r.postKey { return l.postKey < r.postKey ? -1 : 1 }
        if l.devKey != r.devKey { return l.devKey < r.devKey ? -1 : 1 }
        return compareLocal(l.local, r.local)
    }

    /// Local parts: none sorts first; numeric parts sort after alphanumeric ones.
    private static func compareLocal(_ a: [String], _ b: [String]) -> Int {
        if a.isEmpty || b.isEmpty { return a.isEmpty == b.isEmpty ? 0 : (a.isEmpty ? -1 : 1) }
        for i in 0..<max(a.count, b.count) {
            guard i < a.count else { return -1 }
            guard i < b.count else { return 1 }
            switch (Int(a[i]), Int(b[i])) {
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            case (.some, nil): return 1
            case (nil, .some): return -1
            case (nil, nil): if a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
            }
        }
        return 0
    }
}
