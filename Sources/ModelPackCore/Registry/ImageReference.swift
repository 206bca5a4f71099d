/// A reference to a manifest in an OCI registry: `[oci://]host[:port]/repository[:tag][@digest]`.
///
/// The registry is the first component when it looks like a host (it holds a `.` or a `:`, or is
/// `localhost`), as Docker reads it; otherwise the reference is on Docker Hub
/// (`registry-1.docker.io`, one-component names under `library/`). With neither a tag nor a digest
/// the tag is `latest`.
package struct ImageReference: Equatable, Sendable, CustomStringConvertible {
    package static let scheme = "oci://"

    /// As it goes in URLs: `127.0.0.1:5000`, `ghcr.io`.
    package let registry: String
    package let repository: String
    package let tag: String?
    package let digest: String?
    /// What the user wrote (without `oci://`): what errors name.
    package let text: String

    /// The tag or digest a manifest request names; the digest wins when both are given.
    package var manifestReference: String { digest ?? tag ?? "latest" }

    package var description: String { text }

    /// The same repository at another tag or digest.
    func pointing(at reference: String) -> ImageReference {
        let isDigest = reference.hasPrefix("sha256:")
        return ImageReference(
            registry: registry, repository: repository, tag: isDigest ? nil : reference,
            digest: isDigest ? reference : nil,
            text: displayRegistry + "/" + repository
                + (isDigest ? "@" + reference : ":" + reference))
    }

    /// The host as the user wrote it (Docker Hub's API host shows as docker.io).
    var displayRegistry: String { registry == ImageReference.dockerHub ? "docker.io" : registry }

    static let dockerHub = "registry-1.docker.io"

    /// The host without its port, lower-cased.
    var host: String {
        if registry.hasPrefix("[") { return String(registry.dropFirst().prefix(while: { $0 != "]" })) }
        return String(registry.split(separator: ":", maxSplits: 1).first ?? "").lowercased()
    }

    /// Loopback registries are spoken to over plain HTTP, as Docker allows; any other needs
    /// `--plain-http`.
    package var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    init(registry: String, repository: String, tag: String?, digest: String?, text: String) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.text = text
    }

    /// Parses `text`; the error says what is wrong with it.
    package init(parsing input: String) throws {
        var text = input
        if text.hasPrefix(ImageReference.scheme) { text.removeFirst(ImageReference.scheme.count) }
        func fail(_ why: String) -> ModelPackError {
            ModelPackError.usage("'\(input)' is not a registry reference: \(why) (expected oci://HOST/REPOSITORY:TAG)")
        }
        guard !text.isEmpty else { throw fail("it is empty") }
        guard !text.contains(where: { $0.isWhitespace }) else { throw fail("it contains white space") }
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let d = String(rest[rest.index(after: at)...])
            guard ImageReference.isDigest(d) else { throw fail("'\(d)' is not a sha256:<64 hex> digest") }
            digest = d
            rest = rest[..<at]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = ImageReference.dockerHub
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            registry = first
            components.removeFirst()
            guard ImageReference.isHost(registry) else { throw fail("'\(registry)' is not a host[:port]") }
        }
        var tag: String?
        if var last = components.last, let colon = last.lastIndex(of: ":") {
            let t = String(last[last.index(after: colon)...])
            guard ImageReference.isTag(t) else {
                throw fail(
                    "'\(t)' is not a tag (letters, digits, '_', '.', '-', up to 128, not starting with '.' or '-')")
            }
            tag = t
            last = String(last[..<colon])
            components[components.count - 1] = last
        }
        if registry == ImageReference.dockerHub && components.count == 1 { components.insert("library", at: 0) }
        for component in components where !ImageReference.isPathComponent(component) {
            throw fail(
                component.isEmpty
                    ? "it has an empty path component"
                    : "'\(component)' is not a repository name component (lower-case letters, digits, '.', '_', '-')")
        }
        let repository = components.joined(separator: "/")
        guard !repository.isEmpty, repository.count <= 255 else {
            throw fail("the repository name is empty or too long")
        }
        if tag == nil && digest == nil { tag = "latest" }
        self.init(registry: registry, repository: repository, tag: tag, digest: digest, text: text)
    }

    /// Whether `text` names a registry rather than a file: `oci://` always does; otherwise only when
    /// no such path exists and it carries an explicit registry host. Commands that take both (inspect)
    /// use this rule; push and pull take a reference where they take one.
    package static func looksLikeReference(_ text: String, pathExists: Bool) -> Bool {
        if text.hasPrefix(scheme) { return true }
        if pathExists { return false }
        guard let first = text.split(separator: "/").first, text.contains("/") else { return false }
        return (first.contains(".") || first.contains(":") || first == "localhost")
            && (try? ImageReference(parsing: text)) != nil
    }

    static func isDigest(_ s: String) -> Bool {
        guard s.hasPrefix("sha256:") else { return false }
        let hex = s.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    private static func isTag(_ s: String) -> Bool {
        guard let first = s.first, s.count <= 128, first != ".", first != "-" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    private static func isPathComponent(_ s: String) -> Bool {
        let chars = Array(s)
        guard let first = chars.first, let last = chars.last, isAlnum(first), isAlnum(last) else { return false }
        var i = 0
        while i < chars.count {
            if isAlnum(chars[i]) {
                i += 1
                continue
            }
            var j = i
            while j < chars.count, !isAlnum(chars[j]) { j += 1 }
            let separator = String(chars[i..<j])
            guard separator == "." || separator == "_" || separator == "__" || separator.allSatisfy({ $0 == "-" })
            else { return false }
            i = j
        }
        return true
    }

    private static func isAlnum(_ c: Character) -> Bool {
        c.isASCII && (c.isLowercase || c.isNumber)
    }

    private static func isHost(_ s: String) -> Bool {
        if s.hasPrefix("[") { return s.contains("]") }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return false }
        if parts.count == 2 { guard let port = Int(parts[1]), (1...65535).contains(port) else { return false } }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
    }
}
