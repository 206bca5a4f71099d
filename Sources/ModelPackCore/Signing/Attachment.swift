import Foundation

/// What travels with a bundle besides its signature: its ML-BOM (`BUNDLE.bom.json`, from
/// `modelpack bom`) and its build provenance (`BUNDLE.provenance.json`, from `build
/// --provenance`). `push` attaches the ones beside a bundle as OCI referrers of its manifest (one
/// artifact type each), `pull -o` writes them back beside the bundle, `build` removes stale ones,
/// and a trust policy can require them. Each must describe the bundle it travels with: the BOM
/// names its bundle digest, the provenance its bundle manifest.
package enum Attachment: String, CaseIterable, Sendable {
    case bom, provenance

    /// The file beside a bundle: BUNDLE.bom.json, BUNDLE.provenance.json.
    package func path(for bundle: String) -> String { bundle + (self == .bom ? ".bom.json" : ".provenance.json") }

    /// The referrer's artifactType (CycloneDX's and in-toto's registered media types).
    package var artifactType: String {
        self == .bom ? "application/vnd.cyclonedx+json" : "application/vnd.in-toto+json"
    }

    /// The referrer's layer media type: a signed provenance is a DSSE envelope.
    func layerType(_ bytes: [UInt8]) -> String {
        self == .provenance && envelope(bytes) != nil ? BundleSignature.envelopeMediaType : artifactType
    }

    static let maxBytes = 16 << 20

    /// A digest as a message may show it: itself when it is one, else "another digest" (the
    /// document is someone else's text, and may hold anything).
    static func shown(_ digest: String) -> String {
        let hex = digest.dropFirst("sha256:".count)
        let isDigest =
            digest.hasPrefix("sha256:") && hex.count == 64 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        return isDigest ? digest : "another digest"
    }

    private func envelope(_ bytes: [UInt8]) -> [String: Any]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["payloadType"] != nil
        else { return nil }
        return object
    }

    /// nil when `bytes` describe the bundle whose manifest is `manifest` (and, for a provenance
    /// when `trusted` is given, it is a DSSE envelope signed by one of those keys); else why not.
    func problem(_ bytes: [UInt8], manifest: Manifest, trusted: [PublicKey]? = nil) -> String? {
        switch self {
        case .bom:
            guard let bom = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                bom["bomFormat"] as? String == "CycloneDX"
            else { return "not a CycloneDX JSON BOM" }
            let model = (bom["metadata"] as? [String: Any])?["component"] as? [String: Any]
            let properties = model?["properties"] as? [[String: Any]] ?? []
            guard let named = properties.first(where: { $0["name"] as? String == "modelpack:bundle-digest" }),
                let digest = named["value"] as? String
            else { return "the BOM names no bundle digest (modelpack:bundle-digest; made by `modelpack bom`?)" }
            guard digest != manifest.digest else { return nil }
            return "the BOM describes \(Self.shown(digest)), not this bundle (\(manifest.digest))"
        case .provenance:
            var payload = Data(bytes)
            if let envelope = envelope(bytes) {
                guard let opened = BundleSignature.opened(envelope, trusted: trusted ?? []) else {
                    return "not a DSSE envelope of an in-toto statement"
                }
                if trusted != nil, opened.signer == nil { return "the provenance is not signed by a trusted key" }
                payload = opened.payload
            } else if trusted != nil {
                return
                    "the provenance is not signed (the policy's keys must sign it: build \(CommandFlag.provenanceKey))"
            }
            guard let statement = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
                statement["_type"] as? String == "https://in-toto.io/Statement/v1",
                statement["predicateType"] as? String == Provenance.predicateType
            else { return "not an in-toto SLSA provenance v1 statement" }
            let run = (statement["predicate"] as? [String: Any])?["runDetails"] as? [String: Any]
            let byproducts = run?["byproducts"] as? [[String: Any]] ?? []
            guard let entry = byproducts.first(where: { $0["name"] as? String == Manifest.entryPath }),
                let hex = (entry["digest"] as? [String: Any])?["sha256"] as? String
            else { return "the provenance names no bundle manifest (\(Manifest.entryPath) among its byproducts)" }
            guard "sha256:" + hex != manifest.digest else { return nil }
            return "the provenance describes \(Self.shown("sha256:" + hex)), not this bundle (\(manifest.digest))"
        }
    }

    /// The file beside `bundle`, when there is one: its bytes, checked to describe the bundle. One
    /// of other content is an error naming the file (it could only mislead, and `push` would
    /// attach it).
    func matching(bundle: String, manifest: Manifest) throws -> [UInt8]? {
        let file = path(for: bundle)
        guard FileSystem.exists(file) else { return nil }
        try FileSystem.requireRegularFile(file)
        let bytes = try FileSystem.readWholeFile(file, limit: Self.maxBytes)
        if let why = problem(bytes, manifest: manifest) {
            throw ModelPackError.invalidBundle(path: file, reason: "\(why): make it again or remove it")
        }
        return bytes
    }

    /// After `bundle` was written with this manifest: removes the files beside it that describe
    /// other content. Returns the paths removed.
    static func reconcile(bundle: String, manifest: Manifest) throws -> [String] {
        var removed: [String] = []
        for kind in allCases {
            let file = kind.path(for: bundle)
            guard FileSystem.exists(file), !FileSystem.isDirectory(file) else { continue }
            let bytes = try? FileSystem.readWholeFile(file, limit: maxBytes)
            if let bytes, kind.problem(bytes, manifest: manifest) == nil { continue }
            try FileSystem.removeFile(file)
            removed.append(file)
        }
        return removed
    }
}
