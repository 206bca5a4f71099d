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
    /// What is attached to the manifest (signatures, BOM, provenance, others), as listed.
    package let referrers: [OCIDescriptor]
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
        let referrers = try RegistryReferrers.list(of: digest, client: client)
        let (signature, envelope) = try RegistrySignature.state(
            of: OCIDescriptor(mediaType: ModelMediaType.imageManifest, digest: digest, size: Int64(data.count)),
            referrers: referrers, bundle: bundle, client: client, trusted: trusted)
        return RemoteArtifact(
            reference: reference, manifestDigest: digest, manifest: manifest, config: config, bundle: bundle,
            timestamp: timestamp, signature: signature, signatureEnvelope: envelope, referrers: referrers,
            requests: client.requestCount)
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
