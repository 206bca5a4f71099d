import Foundation

package struct PushOptions: Sendable {
    package var bundle: String
    package var reference: ImageReference
    package var registry: RegistryOptions

    package init(bundle: String, reference: ImageReference, registry: RegistryOptions = RegistryOptions()) {
        self.bundle = bundle
        self.reference = reference
        self.registry = registry
    }
}

package struct PushResult: Sendable {
    package let reference: ImageReference
    package let manifestDigest: String
    package let bundleDigest: String
    package let blobs: [BlobTransfer]
    /// The signature pushed as a referrer, when the bundle had BUNDLE.sig.
    package let signatureDigest: String?
    /// Every referrer pushed: the signature, and the BOM and provenance beside the bundle.
    package let referrers: [Referrer]
    package let requests: Int
    package var bytesSent: Int64 { blobs.reduce(0) { $0 + $1.bytes } }
}

extension Operations {
    /// `push`: every file of the bundle as a raw layer (a blob the registry has is never sent
    /// again; one it lacks is mounted from `mountFrom`, or from the repository it was last pushed
    /// to or pulled from on this registry), then the ModelPack config, the
    /// bundle manifest layer and the image manifest, and BUNDLE.sig, BUNDLE.bom.json and
    /// BUNDLE.provenance.json as referrers (each refused first if it describes another bundle). The bundle is
    /// read once and verified entry by entry as it streams (`PushWalk`); the manifest is put last,
    /// so a push that fails leaves the tag as it was.
    package static func push(_ options: PushOptions, context: RunContext) throws -> PushResult {
        let (reader, summary) = try BundleReader.open(options.bundle, limits: context.limits.unpack)
        let manifest = summary.manifest
        // A BUNDLE.sig of other content is refused before anything is sent.
        let envelope = try BundleSignature.matching(bundle: options.bundle, manifest: manifest)
        // So are a BUNDLE.bom.json and a BUNDLE.provenance.json that describe another bundle.
        let attachments = try Attachment.allCases.compactMap { kind in
            try kind.matching(bundle: options.bundle, manifest: manifest).map { (kind, $0) }
        }
        let digests = manifest.files.map { "sha256:" + $0.sha256 }
        var locations = BlobLocations(registry: options.reference.registry)
        let repository = options.reference.repository
        let known = locations
        func mountSource(_ digest: String) -> String? {
            options.registry.mountFrom ?? known.source(of: digest, besides: repository)
        }
        let client = try RegistryClient(
            options.reference, push: true, options: options.registry,
            mountSources: digests.compactMap { locations.source(of: $0, besides: repository) })
        let present = try RegistryTransfer.concurrently(Array(Set(digests)), limit: options.registry.concurrency) {
            try client.blobExists($0)
        }
        var counted: Set<String> = []
        let missing = manifest.files.filter {
            present["sha256:" + $0.sha256] != true && counted.insert($0.sha256).inserted
        }
        context.progress?(.total(missing.reduce(0) { $0 + $1.size }))
        let walk = PushWalk(
            bundle: options.bundle, registry: options.registry, context: context, client: client, present: present,
            mountSource: mountSource)
        let blobs = try walk.run(reader: reader, manifest: manifest)
        let metadata = try YAMLReader.parse(walk.metadataBytes, limits: context.limits.yaml)
        let config = ModelArtifact.config(manifest: manifest, metadata: metadata, timestamp: summary.timestamp)
        let manifestBytes = manifest.canonicalBytes()
        let ociManifest = ModelArtifact.manifest(
            for: manifest, timestamp: summary.timestamp, config: config, bundleManifestBytes: manifestBytes)
        let configDigest = ociManifest.config!.digest
        let manifestLayerDigest = "sha256:" + SHA256Stream.hex(of: manifestBytes)
        try client.uploadBlob(config, digest: configDigest, from: mountSource(configDigest))
        try client.uploadBlob(Data(manifestBytes), digest: manifestLayerDigest, from: mountSource(manifestLayerDigest))
        let data = ociManifest.encoded()
        let digest = try client.putManifest(
            data, mediaType: ModelMediaType.imageManifest, at: options.reference.manifestReference)
        locations.record(digests + [configDigest, manifestLayerDigest], in: repository)
        locations.save()
        let subject = OCIDescriptor(
            mediaType: ModelMediaType.imageManifest, digest: digest, size: Int64(data.count),
            artifactType: ModelMediaType.artifact)
        var signatureDigest: String?
        var referrers: [Referrer] = []
        if let envelope {
            signatureDigest = try RegistrySignature.push(envelope, subject: subject, client: client)
            referrers.append(
                Referrer(kind: "signature", artifactType: RegistrySignature.artifactType, digest: signatureDigest!))
        }
        for (kind, bytes) in attachments {
            let pushed = try RegistryReferrers.attach(
                bytes, artifactType: kind.artifactType, layerType: kind.layerType(bytes), subject: subject,
                client: client)
            referrers.append(Referrer(kind: kind.rawValue, artifactType: kind.artifactType, digest: pushed))
        }
        return PushResult(
            reference: options.reference, manifestDigest: digest, bundleDigest: manifest.digest, blobs: blobs,
            signatureDigest: signatureDigest, referrers: referrers, requests: client.requestCount)
    }
}
