import Foundation

/// Whether a pushed artifact carries a modelpack signature referrer, and, when keys were given,
/// whether it verifies.
package enum SignatureState: Equatable, Sendable {
    case unsigned
    /// Signed; not checked (no keys given).
    case present(keyIDs: [String])
    case valid(keyID: String)
    case invalid(String)
}

/// A referrer of a model's manifest, as push, pull and `inspect oci://` list it.
package struct Referrer: Encodable, Equatable, Sendable {
    /// signature, bom, provenance, or other (another tool's).
    package let kind: String
    package let artifactType: String
    package let digest: String

    init(_ descriptor: OCIDescriptor) {
        let type = descriptor.artifactType ?? ""
        kind =
            type == RegistrySignature.artifactType
            ? "signature" : Attachment.allCases.first { $0.artifactType == type }?.rawValue ?? "other"
        artifactType = type
        digest = descriptor.digest
    }

    init(kind: String, artifactType: String, digest: String) {
        (self.kind, self.artifactType, self.digest) = (kind, artifactType, digest)
    }
}

/// What is attached to a pushed model: OCI referrers of its manifest (an artifactType, the empty
/// config, one layer holding the document unchanged), pushed with a `subject`, found through the
/// referrers API or, where a registry has none (distribution 2.8), through the `sha256-<hex>` tag
/// holding an index of referrers (OCI distribution spec 1.1, "referrers tag schema").
enum RegistryReferrers {
    static let emptyType = "application/vnd.oci.empty.v1+json"
    static let empty = Data("{}".utf8)
    /// At most this many referrers are read; more are listed as they are, not fetched.
    static let maxFetched = 8

    static func fallbackTag(for digest: String) -> String { "sha256-" + digest.dropFirst(7) }

    /// Pushes `payload` as a referrer of `subject`; returns the referrer manifest's digest.
    static func attach(
        _ payload: [UInt8], artifactType: String, layerType: String, subject: OCIDescriptor, client: RegistryClient
    ) throws -> String {
        let emptyDigest = "sha256:" + SHA256Stream.hex(of: empty)
        let payloadDigest = "sha256:" + SHA256Stream.hex(of: payload)
        try client.uploadBlob(empty, digest: emptyDigest)
        try client.uploadBlob(Data(payload), digest: payloadDigest)
        let manifest = OCIManifest(
            mediaType: ModelMediaType.imageManifest, artifactType: artifactType,
            config: OCIDescriptor(mediaType: emptyType, digest: emptyDigest, size: 2),
            layers: [OCIDescriptor(mediaType: layerType, digest: payloadDigest, size: Int64(payload.count))],
            subject: subject)
        let data = manifest.encoded()
        let digest = "sha256:" + SHA256Stream.hex(of: data)
        let supportsReferrers = try client.putManifestReportingSubject(data, at: digest)
        if !supportsReferrers {
            try addToFallbackIndex(
                OCIDescriptor(
                    mediaType: ModelMediaType.imageManifest, digest: digest, size: Int64(data.count),
                    artifactType: artifactType),
                subject: subject.digest, client: client)
        }
        return digest
    }

    private static func addToFallbackIndex(_ descriptor: OCIDescriptor, subject: String, client: RegistryClient) throws
    {
        let tag = fallbackTag(for: subject)
        var index = OCIManifest(mediaType: ModelMediaType.imageIndex, manifests: [])
        if let (data, _, _) = try client.manifest(tag, required: false),
            let existing = try? JSONDecoder().decode(OCIManifest.self, from: data), existing.manifests != nil
        {
            index = existing
        }
        if index.manifests!.contains(where: { $0.digest == descriptor.digest }) { return }
        index.manifests!.append(descriptor)
        try client.putManifest(index.encoded(), mediaType: ModelMediaType.imageIndex, at: tag)
    }

    /// Every referrer of `subject`, as the registry lists them.
    static func list(of subject: String, client: RegistryClient) throws -> [OCIDescriptor] {
        let index: Data
        if let answer = try client.referrers(of: subject) {
            index = answer
        } else if let (data, _, _) = try client.manifest(fallbackTag(for: subject), required: false) {
            index = data
        } else {
            return []
        }
        return (try? JSONDecoder().decode(OCIManifest.self, from: index))?.manifests ?? []
    }

    /// The document a referrer holds: its first layer of one of `layerTypes`, at most `cap` bytes,
    /// when the referrer's manifest names `subject` (a listing is not trusted for that). nil: none.
    static func payload(
        of descriptor: OCIDescriptor, subject: String, layerTypes: [String], cap: Int, client: RegistryClient
    ) throws -> [UInt8]? {
        guard let (data, _, _) = try client.manifest(descriptor.digest, required: false),
            let manifest = try? JSONDecoder().decode(OCIManifest.self, from: data),
            manifest.subject?.digest == subject,
            let layer = manifest.layers?.first(where: { layerTypes.contains($0.mediaType) })
        else { return nil }
        return Array(try client.smallBlob(layer, cap: cap))
    }

    /// The attachment of `kind` among `referrers` that describes `bundle` (and, for a provenance
    /// with `trusted` keys, is signed by one): its bytes and referrer digest; else why there is none.
    static func attachment(
        _ kind: Attachment, among referrers: [OCIDescriptor], subject: String, bundle: Manifest,
        trusted: [PublicKey]?, client: RegistryClient
    ) throws -> Result<(bytes: [UInt8], digest: String), AttachmentMissing> {
        let found = referrers.filter { $0.artifactType == kind.artifactType }
        var problem = "none is attached"
        for descriptor in found.prefix(maxFetched) {
            // One referrer that does not read (gone, oversized, not what its digest says) is that
            // referrer's problem; the next may be the one.
            let fetched: [UInt8]?
            do {
                fetched = try payload(
                    of: descriptor, subject: subject,
                    layerTypes: [kind.artifactType, BundleSignature.envelopeMediaType], cap: Attachment.maxBytes,
                    client: client)
            } catch {
                problem = "referrer \(descriptor.digest) does not read"
                continue
            }
            guard let bytes = fetched else { continue }
            guard let why = kind.problem(bytes, manifest: bundle, trusted: trusted) else {
                return .success((bytes, descriptor.digest))
            }
            problem = why
        }
        return .failure(AttachmentMissing(why: problem))
    }

    struct AttachmentMissing: Error { let why: String }

    /// Writes the BOM and provenance referrers that describe `bundle` beside the bundle file at
    /// `output`, and removes stale ones of an earlier pull; returns the files written.
    static func writeAttachments(
        of remote: RemoteArtifact, bundle: Manifest, beside output: String, provenanceKeys: [PublicKey]?,
        _ client: RegistryClient
    ) throws -> [String] {
        var written: [String] = []
        for kind in Attachment.allCases {
            // With keys, the provenance written is one they signed (the one a policy accepted).
            if case .success(let found) = try attachment(
                kind, among: remote.referrers, subject: remote.manifestDigest, bundle: bundle,
                trusted: kind == .provenance ? provenanceKeys : nil, client: client)
            {
                try FileSystem.writeAtomically(found.bytes, to: kind.path(for: output))
                written.append(kind.path(for: output))
            }
        }
        _ = try Attachment.reconcile(bundle: output, manifest: bundle)
        return written
    }
}

/// BUNDLE.sig on a registry: a referrer of the pushed manifest (artifactType
/// `application/vnd.modelpack.signature.v1+json`, one layer holding the DSSE envelope or the
/// OMS Sigstore bundle unchanged).
enum RegistrySignature {
    static let artifactType = "application/vnd.modelpack.signature.v1+json"
    static let envelopeType = BundleSignature.envelopeMediaType
    /// An OMS signature's layer: the Sigstore bundle, unchanged.
    static let sigstoreType = OMSSignature.mediaType

    /// Pushes the envelope as a referrer of `subject`; returns the signature manifest's digest.
    static func push(_ envelope: [UInt8], subject: OCIDescriptor, client: RegistryClient) throws -> String {
        try RegistryReferrers.attach(
            envelope, artifactType: artifactType,
            layerType: OMSSignature.isOMS(envelope) ? sigstoreType : envelopeType, subject: subject, client: client)
    }

    /// The signature referrers' verdict, and the envelope to keep (the valid one; without keys,
    /// the first that covers the bundle).
    static func state(
        of subject: OCIDescriptor, referrers: [OCIDescriptor], bundle: Manifest?, client: RegistryClient,
        trusted: [PublicKey]?
    ) throws -> (SignatureState, [UInt8]?) {
        let found = referrers.filter { $0.artifactType == artifactType }
        if found.isEmpty { return (.unsigned, nil) }
        var keyIDs: [String] = []
        var covering: [UInt8]?
        var lastProblem = "no signature by a trusted key"
        for descriptor in found.prefix(RegistryReferrers.maxFetched) {
            guard
                let envelope = try RegistryReferrers.payload(
                    of: descriptor, subject: subject.digest, layerTypes: [envelopeType, sigstoreType],
                    cap: BundleSignature.maxEnvelopeBytes, client: client)
            else { continue }
            keyIDs.append(contentsOf: BundleSignature.keyIDs(in: envelope))
            if covering == nil, let bundle, BundleSignature.covers(envelope, manifest: bundle) == true {
                covering = envelope
            }
            if let trusted {
                guard let bundle else {
                    return (.invalid("the artifact has no bundle manifest to check a signature against"), nil)
                }
                switch BundleSignature.check(
                    envelope: envelope, named: "signature \(descriptor.digest)", manifest: bundle, trusted: trusted)
                {
                case .valid(let keyID): return (.valid(keyID: keyID), envelope)
                case .invalid(let why): lastProblem = why
                case .unsigned: break
                }
            }
        }
        if trusted != nil { return (.invalid(lastProblem), nil) }
        return (.present(keyIDs: keyIDs), covering)
    }
}
