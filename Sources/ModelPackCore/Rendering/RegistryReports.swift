/// Renders push, pull and `inspect oci://REF --manifest-only`. In text, every string the registry
/// gave (config fields, annotations, media types, bundle manifest names) has its control
/// characters escaped (`RegistryText`); JSON escapes them by itself.
package enum RegistryReport {
    private static func e(_ text: String) -> String { RegistryText.escaped(text) }

    struct Transfers: Encodable {
        let schema: String
        let reference: String
        let manifestDigest: String
        let bundleDigest: String
        let blobs: [BlobTransfer]
        let bytes: Int64
        let requests: Int
        let signatureDigest: String?
        /// push: every referrer pushed; pull: every referrer of the artifact.
        let referrers: [Referrer]
        let output: String?
        let missing: [String]?
        /// pull: where the signature that covers the bundle was written.
        var signatureFile: String? = nil
        /// pull: the BOM and provenance written beside the bundle.
        var attachmentFiles: [String]? = nil
    }

    package static func json(_ result: PushResult) -> String {
        StableJSON.encode(
            Transfers(
                schema: "modelpack.push/1", reference: result.reference.text, manifestDigest: result.manifestDigest,
                bundleDigest: result.bundleDigest, blobs: result.blobs, bytes: result.bytesSent,
                requests: result.requests, signatureDigest: result.signatureDigest, referrers: result.referrers,
                output: nil,
                missing: nil)) + "\n"
    }

    package static func text(_ result: PushResult) -> String {
        let count = { (a: BlobTransfer.Action) in result.blobs.filter { $0.action == a }.count }
        var out =
            "pushed \(result.reference.text)@\(result.manifestDigest)\n"
            + "  bundle \(result.bundleDigest)\n"
            + "  \(count(.uploaded)) blob(s) sent (\(ByteCount.human(result.bytesSent))), "
            + "\(count(.present)) already there, \(count(.mounted)) mounted; \(result.requests) requests\n"
        for referrer in result.referrers { out += "  \(referrer.kind) referrer \(referrer.digest)\n" }
        return out
    }

    package static func json(_ result: PullResult) -> String {
        StableJSON.encode(
            Transfers(
                schema: "modelpack.pull/1", reference: result.remote.reference.text,
                manifestDigest: result.remote.manifestDigest, bundleDigest: result.remote.bundle?.digest ?? "",
                blobs: result.blobs, bytes: result.bytesReceived, requests: result.requests,
                signatureDigest: nil, referrers: result.remote.referrers.map(Referrer.init), output: result.output,
                missing: result.missing, signatureFile: result.signature, attachmentFiles: result.attachments)) + "\n"
    }

    package static func text(_ result: PullResult) -> String {
        let downloaded = result.blobs.filter { $0.action == .downloaded }.count
        let cached = result.blobs.filter { $0.action == .cached }.count
        let remote = result.remote
        var out = "pulled \(remote.reference.text)@\(remote.manifestDigest) into \(result.output)\n"
        if let bundle = remote.bundle {
            out += "  \(e(bundle.name)) \(e(bundle.version)), bundle \(bundle.digest)\n"
        } else {
            out +=
                "  \(e(remote.config.name ?? "?")) \(e(remote.config.version ?? "?")), not pushed by modelpack: "
                + "rebuilt from its layers' file paths\n"
        }
        out +=
            "  \(downloaded) blob(s) received (\(ByteCount.human(result.bytesReceived))), \(cached) from the cache; "
            + "signature: \(signatureText(remote.signature)); \(result.requests) requests\n"
        if let signature = result.signature { out += "  signature written to \(signature)\n" }
        for file in result.attachments { out += "  wrote \(file)\n" }
        if !remote.referrers.isEmpty { out += "  referrers: \(referrersText(remote.referrers.map(Referrer.init)))\n" }
        if !result.missing.isEmpty {
            out +=
                "  not yet a modelpack model: no \(result.missing.joined(separator: ", ")) "
                + "(write them, then `modelpack validate \(result.output)`)\n"
        }
        return out
    }

    /// `signature sha256:…, bom sha256:…`; another tool's referrer by its artifact type.
    static func referrersText(_ referrers: [Referrer]) -> String {
        if referrers.isEmpty { return "none" }
        return referrers.map { ($0.kind == "other" ? e($0.artifactType) : $0.kind) + " " + e($0.digest) }
            .joined(separator: ", ")
    }

    static func signatureText(_ state: SignatureState) -> String {
        switch state {
        case .unsigned: return "none"
        case .present(let ids):
            return "present, not checked (key \(e(ids.joined(separator: ", "))); give \(CommandFlag.key) to check)"
        case .valid(let id): return "valid, by \(e(id))"
        case .invalid(let why): return "INVALID: \(e(why))"
        }
    }

    struct RemoteJSON: Encodable {
        struct Layer: Encodable {
            let path: String?
            let mediaType: String
            let digest: String
            let size: Int64
        }
        let schema = "modelpack.inspect.remote/1"
        let reference: String
        let manifestDigest: String
        let artifactType: String?
        let configMediaType: String?
        let name: String?
        let version: String?
        let description: String?
        let licenses: [String]
        let format: String?
        let bundleDigest: String?
        let bundle: Manifest?
        let layers: [Layer]
        let signature: SignatureState
        let referrers: [Referrer]
        let requests: Int
    }

    package static func json(_ remote: RemoteArtifact) -> String {
        StableJSON.encode(
            RemoteJSON(
                reference: remote.reference.text, manifestDigest: remote.manifestDigest,
                artifactType: remote.manifest.artifactType, configMediaType: remote.manifest.config?.mediaType,
                name: remote.config.name, version: remote.config.version, description: remote.config.description,
                licenses: remote.config.licenses, format: remote.config.format, bundleDigest: remote.bundle?.digest,
                bundle: remote.bundle,
                layers: (remote.manifest.layers ?? []).map {
                    .init(path: $0.filepath, mediaType: $0.mediaType, digest: $0.digest, size: $0.size)
                }, signature: remote.signature, referrers: remote.referrers.map(Referrer.init),
                requests: remote.requests)) + "\n"
    }

    package static func text(_ remote: RemoteArtifact) -> String {
        var out = """
            reference  \(remote.reference.text)
            manifest   \(remote.manifestDigest)
            type       \(e(remote.manifest.artifactType ?? remote.manifest.config?.mediaType ?? "?"))
            name       \(e(remote.config.name ?? "?"))
            version    \(e(remote.config.version ?? "?"))

            """
        if let bundle = remote.bundle {
            out +=
                "bundle     \(bundle.digest) (modelpack bundle v\(bundle.formatVersion), written by \(e(bundle.tool)))\n"
        } else {
            out += "bundle     none: not pushed by modelpack (no bundle manifest layer)\n"
        }
        if !remote.config.licenses.isEmpty {
            out += "license    \(e(remote.config.licenses.joined(separator: ", ")))\n"
        }
        if let format = remote.config.format { out += "framework  \(e(remote.config.architecture ?? format))\n" }
        let total = remote.files.reduce(0) { $0 + $1.size }
        out += "files      \(remote.files.count), \(ByteCount.human(total))\n"
        out += "signature  \(signatureText(remote.signature))\n"
        out += "referrers  \(referrersText(remote.referrers.map(Referrer.init)))\n"
        var table = TextTable(header: ["LAYER", "SIZE", "DIGEST", "PATH"], rightAligned: [1])
        for layer in remote.files {
            let kind = ModelMediaType.parseLayer(layer.mediaType).map { "\($0.kind).\($0.packing)" } ?? layer.mediaType
            table.rows.append([e(kind), ByteCount.human(layer.size), e(layer.digest), e(layer.filepath ?? "(no path)")])
        }
        out += "\n" + table.render() + "\n"
        return out
    }
}

/// In JSON: `{"state": "unsigned|present|valid|invalid", "keyIDs": [...], "detail": ...}`.
extension SignatureState: Encodable {
    enum CodingKeys: String, CodingKey { case state, keyIDs, detail }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let (state, keyIDs, detail): (String, [String], String?) =
            switch self {
            case .unsigned: ("unsigned", [], nil)
            case .present(let ids): ("present", ids, nil)
            case .valid(let id): ("valid", [id], nil)
            case .invalid(let why): ("invalid", [], why)
            }
        try c.encode(state, forKey: .state)
        try c.encode(keyIDs, forKey: .keyIDs)
        try c.encode(detail, forKey: .detail)
    }
}
