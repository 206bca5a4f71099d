#if canImport(Glibc)
    import Glibc
#endif

/// A subset of gitignore syntax: `#` comments, blank lines, `!` negation, a trailing `/` for
/// directories only, a leading or inner `/` anchoring the pattern to the model directory, and the
/// globs `*`, `?`, `[...]` and `**`. The last matching rule wins, and an ignored directory is not
/// entered, so nothing under it can be re-included (as in git).
struct IgnoreRules {
    struct Rule {
        let negated: Bool
        let directoryOnly: Bool
        let anchored: Bool
        let segments: [String]
        /// How an unanchored rule is tested against a file name, which every file of a model is:
        /// bytes compared for a literal name or `*` and a literal suffix (most rules, and every
        /// default one but `.#*`), `fnmatch` otherwise.
        let name: NameMatch

        enum NameMatch {
            case literal([UInt8])
            case suffix([UInt8])
            case glob
        }

        init(negated: Bool, directoryOnly: Bool, anchored: Bool, segments: [String]) {
            self.negated = negated
            self.directoryOnly = directoryOnly
            self.anchored = anchored
            self.segments = segments
            let pattern = Array(segments[0].utf8)
            let special = pattern.filter { "*?[\\".utf8.contains($0) }
            if special.isEmpty {
                name = .literal(pattern)
            } else if special == [UInt8(ascii: "*")], pattern.first == UInt8(ascii: "*") {
                name = .suffix(Array(pattern.dropFirst()))
            } else {
                name = .glob
            }
        }

        func matchesName(_ file: String) -> Bool {
            switch name {
            case .literal(let bytes): return file.utf8.elementsEqual(bytes)
            case .suffix(let bytes):
                return file.utf8.count >= bytes.count && file.utf8.suffix(bytes.count).elementsEqual(bytes)
            case .glob: return IgnoreRules.glob(segments[0], file)
            }
        }
    }

    private(set) var rules: [Rule] = []

    /// Junk no model needs: version control, caches, editor and OS files.
    static let defaultPatterns = [
        ".git/", ".hg/", ".svn/", "__pycache__/", "*.pyc", "*.pyo", ".ipynb_checkpoints/",
        ".DS_Store", "Thumbs.db", ".idea/", ".vscode/", "*.swp", "*.swo", "*~", ".#*",
        ModelDirectory.ignoreFile,
    ]

    init(patterns: [String]) {
        for line in patterns { add(line) }
    }

    mutating func add(_ line: String) {
        var text = Substring(line)
        while text.last == " " || text.last == "\r" || text.last == "\t" { text = text.dropLast() }
        if text.isEmpty || text.hasPrefix("#") { return }
        var negated = false
        if text.hasPrefix("!") {
            negated = true; text = text.dropFirst()
        } else if text.hasPrefix("\\!") || text.hasPrefix("\\#") {
            text = text.dropFirst()
        }
        var directoryOnly = false
        if text.hasSuffix("/") { directoryOnly = true; text = text.dropLast() }
        let anchored = text.contains("/")
        if text.hasPrefix("/") { text = text.dropFirst() }
        let segments = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !segments.isEmpty else { return }
        rules.append(Rule(negated: negated, directoryOnly: directoryOnly, anchored: anchored, segments: segments))
    }

    /// Whether `path` (relative, `/`-separated) is ignored.
    /// `name`: the last component of `path`, when the caller has it (the walk does).
    func isIgnored(_ path: String, name: String? = nil, isDirectory: Bool) -> Bool {
        // The components only for an anchored rule: the default rules match names alone.
        var parts: [String]?
        let name = name ?? FileSystem.lastComponent(of: path)
        var ignored = false
        for rule in rules where !(rule.directoryOnly && !isDirectory) {
            let matches: Bool
            if rule.anchored {
                if parts == nil { parts = path.split(separator: "/").map(String.init) }
                matches = Self.match(rule.segments[...], parts![...])
            } else {
                matches = rule.matchesName(name)
            }
            if matches { ignored = !rule.negated }
        }
        return ignored
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            if rest.isEmpty { return !path.isEmpty }
            var tail = path
            while true {
                if match(rest, tail) { return true }
                if tail.isEmpty { return false }
                tail = tail.dropFirst()
            }
        }
        guard let name = path.first, glob(head, name) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    fileprivate static func glob(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
