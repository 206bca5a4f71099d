import Foundation

package struct PullOptions: Sendable {
    package var reference: ImageReference
    /// Write a bundle here (container from the extension, as build does)...
    package var output: String?
    /// ...or unpack the model into this directory.
    package var unpackTo: String?
    package var force = false
    /// The keys the signature referrers are checked against (the valid signature is the one
    /// written beside the output).
    package var trustedKeys: TrustedKeys?
    /// Refuse, before writing anything, unless a signature by one of `trustedKeys` covers it.
    package var requireSignature = false
    /// The trust policy the artifact must meet (the rule for its registry and repository),
    /// checked before anything is written; the keys its rule names replace `trustedKeys`.
    package var trust: TrustPolicy?
    package var registry: RegistryOptions
    package var cache: BlobCache

    package init(
        reference: ImageReference, registry: RegistryOptions = RegistryOptions(), cache: BlobCache = BlobCache()
    ) {
        self.reference = reference
        self.registry = registry
        self.cache = cache
    }
}

package struct PullResult: Sendable {
    package let remote: RemoteArtifact
    package let output: String
    /// Where the signature was written (BUNDLE.sig, or `.modelpack/signature.sig` of the directory).
    package var signature: String? {
        guard remote.signatureEnvelope != nil, remote.bundle != nil else { return nil }
        return container == nil
            ? output + "/" + BundleSignature.directoryEntry : BundleSignature.path(for: output)
    }
    package let container: ContainerFormat?
    package let blobs: [BlobTransfer]
    package let requests: Int
    /// The BOM and provenance written beside the bundle (-o), from the artifact's referrers.
    package var attachments: [String] = []
    /// modelpack's required files an artifact another tool pushed does not have (--unpack).
    package let missing: [String]
    package var bytesReceived: Int64 { blobs.reduce(0) { $0 + $1.bytes } }
}

extension Operations {

    /// `pull`: the artifact's blobs into the local cache (each checked against its digest before
    /// use, resumed where an earlier attempt stopped), then a bundle identical to the pushed one,
    /// or the verified model directory; with trusted keys, refused before anything is written
    /// unless a signature by one of them covers the bundle.
    package static func pull(_ options: PullOptions, context: RunContext) throws -> PullResult {
        guard (options.output == nil) != (options.unpackTo == nil) else {
            throw ModelPackError.invalidModel(
                path: options.reference.text, reason: "a pull writes one bundle or one directory")
        }
        let container = try options.output.map { try ContainerFormat.resolve(requested: nil, output: $0) }
        if let directory = options.unpackTo, FileSystem.exists(directory), !options.force {
            throw ModelPackError.destinationExists(path: directory)
        }
        if let output = options.output {
            guard FileSystem.exists(FileSystem.parentDirectory(of: output)) else {
                throw ModelPackError.io(path: output, reason: "the output's directory does not exist")
            }
        }
        let client = try RegistryClient(options.reference, push: false, options: options.registry)
        let rule = options.trust?.rule(
            for: TrustPolicy.canonical(host: options.reference.registry, repository: options.reference.repository))
        let trusted =
            try rule.flatMap { try options.trust!.trusted($0) }
            ?? options.trustedKeys.map { try SigningKeys.trusted(keys: $0.files, directory: $0.directory) }
        let remote = try RemoteArtifact.read(client, trusted: trusted, limits: context.limits.unpack)
        if let trust = options.trust, let rule {
            let state: BundleSignature.Verdict =
                switch remote.signature {
                case .valid(let keyID): .valid(keyID: keyID)
                case .unsigned, .present: .unsigned
                case .invalid(let why): .invalid(why)
                }
            try trust.admitSignature(state, target: options.reference.text, rule: rule)
            try trust.admitAttachments(target: options.reference.text, rule: rule) { kind, keys in
                guard let bundle = remote.bundle else { return "modelpack did not push it" }
                switch try RegistryReferrers.attachment(
                    kind, among: remote.referrers, subject: remote.manifestDigest, bundle: bundle, trusted: keys,
                    client: client)
                {
                case .success: return nil
                case .failure(let missing): return missing.why
                }
            }
            if rule.requireCleanAudit {  // audited from the blob cache before anything is written
                // The manifest just read, by digest: a tag that moves cannot swap in another.
                let same = options.reference.pointing(at: remote.manifestDigest)
                try withPulledBundle(same, registry: options.registry, context: context) { bundle, _ in
                    try trust.admitAudit(
                        try ModelCheck.check(bundle, context: context), target: options.reference.text, rule: rule)
                }
            }
        }
        if options.requireSignature {
            switch remote.signature {
            case .valid: break
            case .unsigned, .present:
                throw ModelPackError.registry(
                    reference: options.reference.text,
                    reason: "refused: not signed (no modelpack signature referrer); nothing written")
            case .invalid(let why):
                throw ModelPackError.registry(
                    reference: options.reference.text, reason: "refused: bad signature: \(why); nothing written")
            }
        }
        guard let bundle = remote.bundle else {
            return try pullForeign(remote, options: options, context: context, client: client, container: container)
        }
        let byDigest = try RemoteArtifact.layers(of: bundle, in: remote, reference: options.reference)
        let unique = Array(Set(bundle.files.map { "sha256:" + $0.sha256 })).sorted()
        var (paths, blobs) = try options.cache.fetchAll(
            unique, byDigest, client: client, concurrency: options.registry.concurrency, progress: context.progress)
        var locations = BlobLocations(registry: options.reference.registry)
        locations.record(unique, in: options.reference.repository)
        locations.save()
        let output = options.output ?? options.unpackTo!
        // Every file is hashed again as it is copied out of the cache. A cached blob that no
        // longer matches (the cache is not fsynced, so a crash can damage one; or it was altered
        // on disk) is removed and fetched again, once.
        for attempt in 0... {
            let files = bundle.files.map {
                SourceFile(
                    path: $0.path, absolutePath: paths["sha256:" + $0.sha256]!, size: $0.size,
                    executable: $0.executable)
            }
            do {
                if let container {
                    _ = try BundleWriter.write(
                        bundle, files: files, to: output, displayName: output, format: container,
                        timestamp: remote.timestamp)
                } else {
                    try Unpacker.materialize(
                        bundle, files: files, to: output, force: options.force, signature: remote.signatureEnvelope)
                }
                break
            } catch let error as ModelPackError {
                // BundleWriter and Unpacker name the source file that does not match its record.
                guard attempt == 0, let damaged = mismatchedSource(error), paths.values.contains(damaged) else {
                    throw error
                }
                options.cache.remove(damaged)
                let again = try options.cache.fetchAll(
                    unique, byDigest, client: client, concurrency: options.registry.concurrency,
                    progress: context.progress)
                paths = again.0
                blobs = blobs.map { first in
                    again.1.first { $0.digest == first.digest && $0.action == .downloaded }.map {
                        BlobTransfer(
                            digest: first.digest, path: first.path, size: first.size, action: .downloaded,
                            bytes: first.bytes + $0.bytes)
                    } ?? first
                }
            }
        }
        // The signature travels with the bundle (BUNDLE.sig; an unpacked model has it in
        // .modelpack/), so `verify --key` works offline; a stale BUNDLE.sig is removed.
        // So do its BOM and provenance (BUNDLE.bom.json, BUNDLE.provenance.json).
        var attachments: [String] = []
        if container != nil {
            if let envelope = remote.signatureEnvelope {
                try FileSystem.writeAtomically(envelope, to: BundleSignature.path(for: output))
            } else {
                _ = try BundleSignature.reconcile(bundle: output, manifest: bundle)
            }
            let provenanceKeys = try rule.flatMap { $0.requireProvenance ? try options.trust!.trusted($0) : nil }
            attachments = try RegistryReferrers.writeAttachments(
                of: remote, bundle: bundle, beside: output, provenanceKeys: provenanceKeys, client)
        }
        // The output is written: the cache may now shed its least recently used entries.
        CacheStore.trim(
            root: FileSystem.parentDirectory(of: options.cache.root),
            keeping: CacheStore.cap(environment: options.registry.environment), log: { _ in })
        var result = PullResult(
            remote: remote, output: output, container: container, blobs: blobs.sorted { $0.path < $1.path },
            requests: client.requestCount, missing: [])
        result.attachments = attachments
        return result
    }

    /// The file an error names when it is a source that did not match its record.
    private static func mismatchedSource(_ error: ModelPackError) -> String? {
        switch error {
        case .invalidModel(let path, _), .invalidBundle(let path, _): return path
        default: return nil
        }
    }

    /// A ModelPack artifact another tool pushed: rebuilt from its layers (`ForeignArtifact`).
    /// --unpack writes it and says which of modelpack's required files it lacks; -o builds a bundle
    /// from it through the same checks as `build`, which refuse it when something is missing.
    private static func pullForeign(
        _ remote: RemoteArtifact, options: PullOptions, context: RunContext, client: RegistryClient,
        container: ContainerFormat?
    ) throws -> PullResult {
        let reference = options.reference.text
        // The files of tar layers (and, for -o, the model directory) in a scratch directory.
        return try TemporaryOutput.withDirectory(nextTo: CacheDirectory.path() + "/foreign") { scratch in
            let foreign = try ForeignArtifact.rebuild(
                remote, client: client, cache: options.cache, concurrency: options.registry.concurrency,
                context: context, scratch: scratch)
            let blobs = foreign.blobs.sorted { $0.path < $1.path }
            if let target = options.unpackTo {
                try Unpacker.materialize(
                    foreign.manifest, files: foreign.files, to: target, force: options.force, writeManifest: false)
                return PullResult(
                    remote: remote, output: target, container: nil, blobs: blobs, requests: client.requestCount,
                    missing: foreign.missing)
            }
            guard let target = options.output, let container else {
                throw ModelPackError.invalidModel(path: reference, reason: "neither a bundle nor a directory to write")
            }
            if !foreign.missing.isEmpty {
                throw ModelPackError.registry(
                    reference: reference,
                    reason:
                        "not a complete model for a bundle: it has no \(foreign.missing.joined(separator: ", ")) (pull it with \(CommandFlag.unpack) DIR, add what is missing, then `modelpack build DIR`)"
                )
            }
            let model = scratch + "/model"
            try Unpacker.materialize(
                foreign.manifest, files: foreign.files, to: model, force: false, writeManifest: false)
            do {
                _ = try Operations.build(
                    BuildOptions(source: model, output: target, format: container, timestamp: remote.timestamp),
                    context: context)
            } catch ModelPackError.validationFailed(let report) {
                throw ModelPackError.validationFailed(report.retargeted(reference))
            }
            return PullResult(
                remote: remote, output: target, container: container, blobs: blobs, requests: client.requestCount,
                missing: [])
        }
    }
}
