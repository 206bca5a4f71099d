import Foundation

/// A trust policy (`--policy FILE`, or MODELPACK_POLICY): which keys are trusted for which
/// registry or repository, and whether a model must be signed by one of them and pass a clean
/// audit before pull, unpack, serve, test, predict or dockerfile use it (Docs/SECURITY.md#trust-policy).
///
///     modelpack_policy: 1
///     default:                      # local files, and references no rule names
///       require_signature: true
///       require_clean_audit: true
///       require_provenance: true    # BUNDLE.provenance.json, signed by one of the keys
///       keys: [keys/release.pub]    # relative to the policy file
///     registries:
///       - prefix: registry.example.com/team   # HOST[/REPOSITORY...]; the longest match wins
///         trusted_keys: keys/team   # a directory of *.pub and *.pem
///         require_signature: true
///         require_clean_audit: false
///         require_bom: true         # an ML-BOM referrer (BUNDLE.bom.json beside a file)
///
/// It fails closed: an unknown key, a value of the wrong type, a key file that does not read,
/// or a rule that requires a signature and names no key is an error naming the policy file.
package struct TrustPolicy: Sendable {
    package struct Rule: Sendable {
        /// nil for the default rule.
        let prefix: String?
        let keys: [String]
        let trustedKeys: String?
        let requireSignature: Bool
        let requireCleanAudit: Bool
        let requireBOM: Bool
        let requireProvenance: Bool
        var required: [Attachment] {
            (requireBOM ? [.bom] : []) + (requireProvenance ? [.provenance] : [])
        }
        var keyFiles: TrustedKeys? {
            keys.isEmpty && trustedKeys == nil ? nil : TrustedKeys(files: keys, directory: trustedKeys)
        }
        var name: String { prefix.map { "the rule for \($0)" } ?? "the default rule" }
    }

    package let path: String
    let defaultRule: Rule
    let rules: [Rule]

    static let maxBytes = 1 << 20
    static let ruleKeys: Set<String> = [
        "prefix", "keys", "trusted_keys", "require_signature", "require_clean_audit", "require_bom",
        "require_provenance",
    ]

    /// Reads and checks a policy file.
    package static func load(_ path: String) throws -> TrustPolicy {
        let bytes = try FileSystem.readWholeFile(path, limit: maxBytes)
        guard let root = try YAMLReader.parse(bytes, limits: YAMLLimits()), let pairs = root.mappingPairs else {
            throw ModelPackError.usage("\(path): not a trust policy (a YAML mapping)")
        }
        func fail(_ node: YAMLNode, _ why: String) -> ModelPackError {
            .usage("\(path):\(node.mark.line): \(why)")
        }
        let base = FileSystem.parentDirectory(of: path)
        func resolved(_ file: String) -> String { file.hasPrefix("/") ? file : base + "/" + file }

        func rule(_ node: YAMLNode, prefix: String?) throws -> Rule {
            guard let entries = node.mappingPairs else { throw fail(node, "a rule is a mapping") }
            for (key, _) in entries
            where !ruleKeys.contains(key.scalar ?? "") || (prefix == nil && key.scalar == "prefix") {
                throw fail(key, "unknown key '\(key.scalar ?? "?")' in a rule")
            }
            func flag(_ name: String) throws -> Bool {
                guard let value = node[name] else { return false }
                guard case .bool(let b)? = value.scalarKind else { throw fail(value, "\(name) is true or false") }
                return b
            }
            var keys: [String] = []
            if let list = node["keys"] {
                guard let items = list.sequenceItems else { throw fail(list, "keys is a list of key files") }
                keys = try items.map {
                    guard let file = $0.stringValue else { throw fail($0, "a key is a file name") }
                    return resolved(file)
                }
            }
            var directory: String?
            if let dir = node["trusted_keys"] {
                guard let text = dir.stringValue else { throw fail(dir, "trusted_keys is a directory") }
                directory = resolved(text)
            }
            let made = Rule(
                prefix: prefix, keys: keys, trustedKeys: directory, requireSignature: try flag("require_signature"),
                requireCleanAudit: try flag("require_clean_audit"), requireBOM: try flag("require_bom"),
                requireProvenance: try flag("require_provenance"))
            if made.requireSignature && made.keyFiles == nil {
                throw fail(node, "\(made.name) requires a signature but names no key (keys or trusted_keys)")
            }
            // Every key must read now: a policy whose key is missing trusts nothing by mistake.
            if let files = made.keyFiles {
                do {
                    _ = try SigningKeys.trusted(keys: files.files, directory: files.directory)
                } catch {
                    throw fail(node, "\(made.name)'s keys do not read: \(error)")
                }
            }
            return made
        }

        var defaultRule = Rule(
            prefix: nil, keys: [], trustedKeys: nil, requireSignature: false, requireCleanAudit: false,
            requireBOM: false, requireProvenance: false)
        var rules: [Rule] = []
        var version: Int?
        for (key, value) in pairs {
            switch key.scalar {
            case "modelpack_policy":
                guard case .int(let v)? = value.scalarKind else { throw fail(value, "modelpack_policy is 1") }
                version = v
            case "default": defaultRule = try rule(value, prefix: nil)
            case "registries":
                guard let items = value.sequenceItems else { throw fail(value, "registries is a list of rules") }
                for item in items {
                    guard let prefixNode = item["prefix"], let prefix = prefixNode.stringValue, !prefix.isEmpty else {
                        throw fail(item, "a registry rule needs a prefix (HOST or HOST/REPOSITORY)")
                    }
                    guard let name = normalised(prefix) else {
                        throw fail(prefixNode, "'\(prefix)' is not HOST or HOST/REPOSITORY (no tag or digest)")
                    }
                    guard !rules.contains(where: { $0.prefix == name }) else {
                        throw fail(prefixNode, "a second rule for \(name)")
                    }
                    rules.append(try rule(item, prefix: name))
                }
            default: throw fail(key, "unknown key '\(key.scalar ?? "?")' (modelpack_policy, default, registries)")
            }
        }
        guard version == 1 else { throw fail(root, "modelpack_policy: 1 is missing (this is version 1)") }
        return TrustPolicy(path: path, defaultRule: defaultRule, rules: rules)
    }

    /// Docker Hub's names for itself, as one.
    static let dockerHubNames: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]

    /// `HOST/REPOSITORY` as rules compare it: the host in lower case (DNS names are), Docker
    /// Hub's aliases as one.
    static func canonical(host: String, repository: String) -> String {
        let lower = host.lowercased()
        return (dockerHubNames.contains(lower) ? "docker.io" : lower) + (repository.isEmpty ? "" : "/" + repository)
    }

    /// A rule's prefix, checked: HOST[/REPOSITORY...], no tag or digest, not empty.
    static func normalised(_ prefix: String) -> String? {
        var text = prefix.hasPrefix("oci://") ? String(prefix.dropFirst(6)) : prefix
        while text.hasSuffix("/") { text.removeLast() }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty, !text.contains("@"), !text.contains("//"),
            parts.count == 1 || !parts[1].contains(":")
        else { return nil }
        return canonical(host: String(host), repository: parts.count > 1 ? String(parts[1]) : "")
    }

    /// The rule for a registry reference's `HOST/REPOSITORY`: the longest prefix that is the
    /// name or a leading run of its path components; else the default.
    func rule(for name: String?) -> Rule {
        guard let name else { return defaultRule }
        let matching = rules.filter { name == $0.prefix! || name.hasPrefix($0.prefix! + "/") }
        return matching.max { $0.prefix!.count < $1.prefix!.count } ?? defaultRule
    }

    private func refused(_ target: String, _ rule: Rule, _ why: String) -> ModelPackError {
        .invalidModel(path: target, reason: "refused by the trust policy \(path) (\(rule.name)): \(why)")
    }

    /// Whether a signature state meets the rule (registry referrers, or BUNDLE.sig checked
    /// against the rule's keys).
    func admitSignature(_ state: BundleSignature.Verdict, target: String, rule: Rule) throws {
        guard rule.requireSignature else { return }
        switch state {
        case .valid: return
        case .unsigned: throw refused(target, rule, "it is not signed")
        case .invalid(let why): throw refused(target, rule, "no signature by a key it trusts (\(why))")
        }
    }

    /// The rule's keys, loaded.
    func trusted(_ rule: Rule) throws -> [PublicKey]? {
        try rule.keyFiles.map { try SigningKeys.trusted(keys: $0.files, directory: $0.directory) }
    }

    /// A local model (a bundle, or a directory, which carries no signature) against the default
    /// rule: its signature, then its audit.
    func admit(model: String, verdict: ModelVerdict, limits: UnpackLimits) throws {
        try admit(model: model, limits: limits) { verdict }
    }

    /// The same, with the verdict made only when the rule asks for a clean audit.
    func admit(model: String, limits: UnpackLimits, verdict: () throws -> ModelVerdict) throws {
        let rule = defaultRule
        if rule.requireSignature {
            guard !FileSystem.isDirectory(model) else {
                throw refused(model, rule, "a model directory carries no signature; build and sign a bundle")
            }
            let state = try BundleSignature.check(bundle: model, trusted: try trusted(rule) ?? [], limits: limits)
            try admitSignature(state, target: model, rule: rule)
        }
        if !rule.required.isEmpty {
            guard !FileSystem.isDirectory(model) else {
                throw refused(model, rule, "a model directory carries no BOM or provenance; build a bundle")
            }
            let manifest = try BundleReader.inspect(model, limits: limits).manifest
            try admitAttachments(target: model, rule: rule) { kind, keys in
                let file = kind.path(for: model)
                guard FileSystem.exists(file) else { return "there is no \(file)" }
                try FileSystem.requireRegularFile(file)
                let bytes = try FileSystem.readWholeFile(file, limit: Attachment.maxBytes)
                return kind.problem(bytes, manifest: manifest, trusted: keys).map { "\(file): \($0)" }
            }
        }
        if rule.requireCleanAudit { try admitAudit(try verdict(), target: model, rule: rule) }
    }

    /// Whether the BOM and provenance the rule requires are there and describe the model (a
    /// provenance signed by the rule's keys when it names any). `find` says why one is missing
    /// (nil: it is there), given the kind and the keys it must be signed by.
    func admitAttachments(
        target: String, rule: Rule, find: (Attachment, [PublicKey]?) throws -> String?
    ) throws {
        for kind in rule.required {
            let keys = kind == .provenance ? try trusted(rule) : nil
            if let why = try find(kind, keys) {
                throw refused(target, rule, "it has no \(kind == .bom ? "ML-BOM" : "provenance") (\(why))")
            }
        }
    }

    /// A clean audit: every artifact `safe`, and no error or warning.
    func admitAudit(_ verdict: ModelVerdict, target: String, rule: Rule) throws {
        guard rule.requireCleanAudit else { return }
        let notSafe = verdict.audits.filter { $0.verdict != .safe }.map { "\($0.path) (\($0.verdict.rawValue))" }
        let (errors, warnings) = (verdict.report.errorCount, verdict.report.warningCount)
        guard notSafe.isEmpty, errors == 0, warnings == 0 else {
            var parts: [String] = []
            if !notSafe.isEmpty { parts.append("not safe: " + notSafe.prefix(3).joined(separator: ", ")) }
            if errors + warnings > 0 { parts.append("\(errors) errors and \(warnings) warnings") }
            throw refused(target, rule, "the audit is not clean (" + parts.joined(separator: "; ") + ")")
        }
    }
}
