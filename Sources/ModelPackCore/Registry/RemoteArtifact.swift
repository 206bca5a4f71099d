import Crypto
import Foundation

/// What `inspect oci://REF --manifest-only` shows: the registry manifest, the ModelPack config and
/// the bundle manifest, in a constant number of requests.
package struct RemoteArtifact: Sendable {
    package let reference: ImageReference
    package let manifestDigest: String
    package let manifest: OCIManifest
    package let config: ModelArtifact.ConfigSummary
    /// The bundle manifest, when modelpack pushed the artifact.
    package let bundle: Manifest?
    /// The entries' timestamp the bundle was built with.
    package let timestamp: Int64
    package let signature: SignatureState
    /// The signature envelope `pull` writes beside what it wrote, so that `verify --key` works
    /// offline: the valid one when keys were given, else the first whose statement covers the
    /// bundle. nil when there is none.
    package let signatureEnvelope: [UInt8]?
    package let requests: Int

    /// The file layers (every layer but the bundle manifest's).
    package var files: [OCIDescriptor] {
        (manifest.layers ?? []).filter { $0.mediaType != ModelMediaType.bundleManifest }
    }

    /// The manifest (or index) at `tagOrDigest`: its bytes, digest and decoded form.
    private static func manifest(_ tagOrDigest: String, _ client: RegistryClient) throws -> (
        Data, String, OCIManifest
    ) {
        let reference = client.reference
        guard let (data, digest, mediaType) = try client.manifest(tagOrDigest) else {
            throw ModelPackError.registry(reference: reference.text, reason: "not found")
        }
        guard var manifest = try? JSONDecoder().decode(OCIManifest.self, from: data) else {
            throw ModelPackError.registry(reference: reference.text, reason: "the registry's manifest is not OCI JSON")
        }
        try manifest.checkSizes(reference: reference.text)
        if mediaType == ModelMediaType.imageIndex, manifest.manifests == nil { manifest.manifests = [] }
        return (data, digest, manifest)
    }

    /// The entry of an image index that is a model: the one whose artifactType says so, else the
    /// index's only entry. Anything else is refused, listing the entries to choose from.
    static func modelEntry(of entries: [OCIDescriptor], _ reference: ImageReference) throws -> OCIDescriptor {
        let modelTypes = [ModelMediaType.artifact, ModelMediaType.legacyArtifact]
        let models = entries.filter { modelTypes.contains($0.artifactType ?? "") }
        if models.count == 1 { return models[0] }
        if models.isEmpty, entries.count == 1 { return entries[0] }
        let listed = (models.isEmpty ? entries : models).prefix(5).map { entry in
            entry.digest + (entry.artifactType.map { " (\($0))" } ?? "")
        }
        let more = (models.isEmpty ? entries : models).count > 5 ? ", …" : ""
        throw ModelPackError.registry(
            reference: reference.text,
            reason: entries.isEmpty
                ? "is an empty image index"
                : "is an image index of \(entries.count) manifests, \(models.count) of them models; name one by digest: \(listed.joined(separator: ", "))\(more)"
        )
    }

    /// Reads the manifest at the reference, its config and its bundle-manifest layer, and the
    /// signature referrers (checked against `trusted` when given).
    static func read(_ client: RegistryClient, trusted: [PublicKey]?, limits: UnpackLimits) throws
        -> RemoteArtifact
    {
        let reference = client.reference
        var (data, digest, manifest) = try Self.manifest(reference.manifestReference, client)
        if let entries = manifest.manifests {
            // An image index: followed to its one model manifest (one level deep).
            let entry = try Self.modelEntry(of: entries, reference)
            (data, digest, manifest) = try Self.manifest(entry.digest, client)
            guard manifest.manifests == nil else {
                throw ModelPackError.registry(
                    reference: reference.text,
                    reason:
                        "image index \(entry.digest) within the index is not followed; name a model manifest by digest")
            }
        }
        guard ModelArtifact.isModelArtifact(manifest), let configDescriptor = manifest.config else {
            throw ModelPackError.registry(
                reference: reference.text,
                reason:
                    "not a model artifact (artifactType \(manifest.artifactType ?? "none"), config \(manifest.config?.mediaType ?? "none"))"
            )
        }
        let configData = try client.smallBlob(configDescriptor, cap: RegistryClient.maxManifestBytes)
        guard let config = ModelArtifact.readConfig(configData) else {
            throw ModelPackError.registry(reference: reference.text, reason: "the model config is not a JSON object")
        }
        var bundle: Manifest?
        var timestamp = SourceDate.fixedEpoch
        let bundleLayers = (manifest.layers ?? []).filter { $0.mediaType == ModelMediaType.bundleManifest }
        if bundleLayers.count > 1 {
            throw ModelPackError.registry(
                reference: reference.text, reason: "has \(bundleLayers.count) bundle manifest layers")
        }
        if let layer = bundleLayers.first {
            let bytes = try client.smallBlob(layer, cap: Manifest.maxBytes)
            let decoded = try Manifest.decode(Array(bytes), bundle: reference.text, maxPathBytes: limits.maxPathBytes)
            guard decoded.canonicalBytes() == Array(bytes) else {
                throw ModelPackError.registry(
                    reference: reference.text, reason: "the bundle manifest layer is not in canonical form; refused")
            }
            try limits.check(decoded, archiveSize: decoded.totalSize, bundle: reference.text)
            bundle = decoded
            if let created = layer.annotations?[ModelAnnotation.created],
                let seconds = ModelArtifact.seconds(rfc3339: created)
            {
                timestamp = seconds
            }
        } else if let created = config.createdAt, let seconds = ModelArtifact.seconds(rfc3339: created) {
            timestamp = seconds
        }
        let (signature, envelope) = try RegistrySignature.state(
            of: OCIDescriptor(mediaType: ModelMediaType.imageManifest, digest: digest, size: Int64(data.count)),
            bundle: bundle, client: client, trusted: trusted)
        return RemoteArtifact(
            reference: reference, manifestDigest: digest, manifest: manifest, config: config, bundle: bundle,
            timestamp: timestamp, signature: signature, signatureEnvelope: envelope, requests: client.requestCount)
    }

    /// The layer of every bundle file, by digest; refuses an artifact whose layers and bundle
    /// manifest disagree (a file with no layer or another digest or size, a layer no file names).
    static func layers(of bundle: Manifest, in remote: RemoteArtifact, reference: ImageReference) throws
        -> [String: OCIDescriptor]
    {
        var byPath: [String: OCIDescriptor] = [:]
        for layer in remote.files {
            guard let path = layer.filepath else {
                throw ModelPackError.registry(
                    reference: reference.text,
                    reason: "layer \(layer.digest) has no \(ModelAnnotation.filepath) annotation")
            }
            guard byPath[path] == nil else {
                throw ModelPackError.registry(reference: reference.text, reason: "two layers for '\(path)'")
            }
            byPath[path] = layer
        }
        var byDigest: [String: OCIDescriptor] = [:]
        for record in bundle.files {
            guard let layer = byPath.removeValue(forKey: record.path) else {
                throw ModelPackError.registry(
                    reference: reference.text, reason: "'\(record.path)' is in the bundle manifest but has no layer")
            }
            guard layer.digest == "sha256:" + record.sha256, layer.size == record.size else {
                throw ModelPackError.registry(
                    reference: reference.text,
                    reason:
                        "the layer for '\(record.path)' (\(layer.digest), \(layer.size) bytes) is not the file the bundle manifest lists"
                )
            }
            byDigest[layer.digest] = layer
        }
        if let extra = byPath.keys.sorted().first {
            throw ModelPackError.registry(
                reference: reference.text, reason: "layer '\(extra)' is not in the bundle manifest")
        }
        return byDigest
    }
}

/// Whether a pushed artifact carries a modelpack signature referrer, and, when keys were given,
/// whether it verifies.
package enum SignatureState: Equatable, Sendable {
    case unsigned
    /// Signed; not checked (no keys given).
    case present(keyIDs: [String])
    case valid(keyID: String)
    case invalid(String)
}

/// BUNDLE.sig on a registry: an OCI referrer of the pushed manifest (artifactType
/// `application/vnd.modelpack.signature.v1+json`, the empty config, one layer holding the DSSE
/// envelope unchanged), found through the referrers API or, where a registry has none
/// (distribution 2.8), through the `sha256-<hex>` tag holding an index of referrers.
enum RegistrySignature {
    static let artifactType = "application/vnd.modelpack.signature.v1+json"
    static let envelopeType = "application/vnd.dsse.envelope.v1+json"
    /// An OMS signature's layer: the Sigstore bundle, unchanged.
    static let sigstoreType = OMSSignature.mediaType
    static let emptyType = "application/vnd.oci.empty.v1+json"
    static let empty = Data("{}".utf8)

    static func fallbackTag(for digest: String) -> String { "sha256-" + digest.dropFirst(7) }

    /// Pushes the envelope as a referrer of `subject`; returns the signature manifest's digest.
    static func push(_ envelope: [UInt8], subject: OCIDescriptor, client: RegistryClient) throws -> String {
        let emptyDigest = "sha256:" + SHA256Stream.hex(of: empty)
        let envelopeDigest = "sha256:" + SHA256Stream.hex(of: envelope)
        try client.uploadBlob(empty, digest: emptyDigest)
        try client.uploadBlob(Data(envelope), digest: envelopeDigest)
        let manifest = OCIManifest(
            mediaType: ModelMediaType.imageManifest, artifactType: artifactType,
            config: OCIDescriptor(mediaType: emptyType, digest: emptyDigest, size: 2),
            layers: [
                OCIDescriptor(
                    mediaType: OMSSignature.isOMS(envelope) ? sigstoreType : envelopeType, digest: envelopeDigest,
                    size: Int64(envelope.count))
            ],
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

    /// The referrers of `subject` that are modelpack signatures.
    static func referrers(of subject: String, client: RegistryClient) throws -> [OCIDescriptor] {
        let index: Data
        if let answer = try client.referrers(of: subject) {
            index = answer
        } else if let (data, _, _) = try client.manifest(fallbackTag(for: subject), required: false) {
            index = data
        } else {
            return []
        }
        let decoded = try? JSONDecoder().decode(OCIManifest.self, from: index)
        return (decoded?.manifests ?? []).filter { $0.artifactType == artifactType }
    }

    /// The signature referrers' verdict, and the envelope to keep (the valid one; without keys,
    /// the first that covers the bundle).
    static func state(
        of subject: OCIDescriptor, bundle: Manifest?, client: RegistryClient,
        trusted: [PublicKey]?
    ) throws -> (SignatureState, [UInt8]?) {
        let found = try referrers(of: subject.digest, client: client)
        if found.isEmpty { return (.unsigned, nil) }
        var keyIDs: [String] = []
        var covering: [UInt8]?
        var lastProblem = "no signature by a trusted key"
        for descriptor in found.prefix(8) {
            guard let (data, _, _) = try client.manifest(descriptor.digest, required: false),
                let manifest = try? JSONDecoder().decode(OCIManifest.self, from: data),
                manifest.subject?.digest == subject.digest,
                let layer = manifest.layers?.first(where: { [envelopeType, sigstoreType].contains($0.mediaType) })
            else { continue }
            let envelope = Array(try client.smallBlob(layer, cap: BundleSignature.maxEnvelopeBytes))
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
