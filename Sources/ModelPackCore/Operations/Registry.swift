import Foundation

/// One blob of a push or pull and what happened to it.
public struct BlobTransfer: Codable, Equatable, Sendable {
    public enum Action: String, Codable, Sendable {
        /// Sent to the registry.
        case uploaded
        /// The registry had it (HEAD answered 200): nothing sent.
        case present
        /// Mounted from another repository of the same registry: nothing sent.
        case mounted
        /// Received from the registry.
        case downloaded
        /// Already in the local blob cache: nothing received.
        case cached
    }

    public let digest: String
    public let path: String
    public let size: Int64
    public let action: Action
    public let bytes: Int64
}

public struct PushOptions: Sendable {
    public var bundle: String
    public var reference: ImageReference
    public var registry: RegistryOptions

    public init(bundle: String, reference: ImageReference, registry: RegistryOptions = RegistryOptions()) {
        self.bundle = bundle
        self.reference = reference
        self.registry = registry
    }
}

public struct PushResult: Sendable {
    public let reference: ImageReference
    public let manifestDigest: String
    public let bundleDigest: String
    public let blobs: [BlobTransfer]
    /// The signature pushed as a referrer, when the bundle had BUNDLE.sig.
    public let signatureDigest: String?
    public let requests: Int
    public var bytesSent: Int64 { blobs.reduce(0) { $0 + $1.bytes } }
}

public struct PullOptions: Sendable {
    public var reference: ImageReference
    /// Write a bundle here (container from the extension, as build does)...
    public var output: String?
    /// ...or unpack the model into this directory.
    public var unpackTo: String?
    public var force = false
    /// Refuse, before writing anything, unless the artifact carries a signature by one of these.
    public var trustedKeys: TrustedKeys?
    public var registry: RegistryOptions
    public var cache: BlobCache

    public init(
        reference: ImageReference, registry: RegistryOptions = RegistryOptions(), cache: BlobCache = BlobCache()
    ) {
        self.reference = reference
        self.registry = registry
        self.cache = cache
    }
}

public struct PullResult: Sendable {
    public let remote: RemoteArtifact
    public let output: String
    public let container: ContainerFormat?
    public let blobs: [BlobTransfer]
    public let requests: Int
    /// modelpack's required files an artifact another tool pushed does not have (--unpack).
    public let missing: [String]
    public var bytesReceived: Int64 { blobs.reduce(0) { $0 + $1.bytes } }
}

extension Operations {
    /// `inspect oci://REF --manifest-only`: the manifest, config and bundle manifest (three
    /// requests, plus one for a token and one for the signature referrers), whatever the model's size.
    public static func inspectReference(
        _ reference: ImageReference, registry: RegistryOptions = RegistryOptions(), context: RunContext
    ) throws -> RemoteArtifact {
        let client = try RegistryClient(reference, push: false, options: registry)
        return try RemoteArtifact.read(client, trusted: nil, limits: context.limits.unpack)
    }

    /// `pull`: the artifact's blobs into the local cache (each checked against its digest before
    /// use, resumed where an earlier attempt stopped), then a bundle identical to the pushed one,
    /// or the verified model directory; with trusted keys, refused before anything is written
    /// unless a signature by one of them covers the bundle.
    public static func pull(_ options: PullOptions, context: RunContext) throws -> PullResult {
        guard (options.output == nil) != (options.unpackTo == nil) else {
            throw ModelPackError.usage("give -o BUNDLE or --unpack DIR")
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
        let trusted = try options.trustedKeys.map { try SigningKeys.trusted(keys: $0.files, directory: $0.directory) }
        let remote = try RemoteArtifact.read(client, trusted: trusted, limits: context.limits.unpack)
        if options.trustedKeys != nil {
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
        var (paths, blobs) = try fetch(unique, byDigest, options: options, context: context, client: client)
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
                    try Unpacker.materialize(bundle, files: files, to: output, force: options.force)
                }
                break
            } catch let error as ModelPackError {
                // BundleWriter and Unpacker name the source file that does not match its record.
                guard attempt == 0, let damaged = mismatchedSource(error), paths.values.contains(damaged) else {
                    throw error
                }
                options.cache.remove(damaged)
                let again = try fetch(unique, byDigest, options: options, context: context, client: client)
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
        // The output is written: the cache may now shed its least recently used entries.
        CacheStore.trim(
            root: FileSystem.parentDirectory(of: options.cache.root),
            keeping: CacheStore.cap(environment: options.registry.environment), log: { _ in })
        return PullResult(
            remote: remote, output: output, container: container, blobs: blobs.sorted { $0.path < $1.path },
            requests: client.requestCount, missing: [])
    }

    /// The file an error names when it is a source that did not match its record.
    private static func mismatchedSource(_ error: ModelPackError) -> String? {
        switch error {
        case .invalidModel(let path, _), .invalidBundle(let path, _): return path
        default: return nil
        }
    }

    /// Every blob of `digests` into the cache, `concurrency` at a time.
    private static func fetch(
        _ digests: [String], _ byDigest: [String: OCIDescriptor], options: PullOptions, context: RunContext,
        client: RegistryClient
    ) throws -> ([String: String], [BlobTransfer]) {
        let cache = options.cache
        let progress = context.progress
        if let progress {
            progress(.total(digests.filter { cache.cached($0) == nil }.reduce(0) { $0 + (byDigest[$1]?.size ?? 0) }))
        }
        let fetched = try RegistryTransfer.concurrently(digests, limit: options.registry.concurrency) { digest in
            let descriptor = byDigest[digest]!
            let (path, bytes) = try cache.fetch(descriptor, from: client, progress: progress)
            return (
                path,
                BlobTransfer(
                    digest: digest, path: descriptor.filepath ?? "", size: descriptor.size,
                    action: bytes > 0 ? .downloaded : .cached, bytes: bytes)
            )
        }
        return (fetched.mapValues(\.0), fetched.values.map(\.1))
    }

    /// A ModelPack artifact another tool pushed (no bundle manifest layer): the model directory
    /// rebuilt from the layers, every blob checked against its digest: a raw layer is the file its
    /// path annotation names, a tar layer holds files under their own paths (`PackedLayer`).
    /// --unpack writes it and says which of modelpack's required files it lacks; -o builds a bundle
    /// from it through the same checks as `build`, which refuse it when something is missing.
    private static func pullForeign(
        _ remote: RemoteArtifact, options: PullOptions, context: RunContext, client: RegistryClient,
        container: ContainerFormat?
    ) throws -> PullResult {
        let reference = options.reference.text
        var raw: [FileRecord] = []
        var packed: [(OCIDescriptor, PackedLayer)] = []
        var seen: Set<String> = []  // no path twice, across every layer
        func twice(_ path: String) -> ModelPackError {
            ModelPackError.registry(reference: reference, reason: "two layers hold '\(path)'")
        }
        var byDigest: [String: OCIDescriptor] = [:]
        for layer in remote.files {
            guard let path = layer.filepath else {
                throw ModelPackError.registry(
                    reference: reference, reason: "layer \(layer.digest) names no file (no \(ModelAnnotation.filepath))"
                )
            }
            guard ImageReference.isDigest(layer.digest) else {
                throw ModelPackError.registry(
                    reference: reference, reason: "layer '\(path)' has digest '\(layer.digest)'")
            }
            byDigest[layer.digest] = layer
            if let packing = PackedLayer.packing(of: layer.mediaType) {
                guard PackedLayer.reads(packing) else {
                    throw ModelPackError.registry(
                        reference: reference,
                        reason:
                            "layer '\(path)' is \(layer.mediaType); modelpack reads raw layers and tar layers (plain, gzip or zstd)"
                    )
                }
                packed.append((layer, PackedLayer(name: path, reference: reference)))
                continue
            }
            if let problem = BundlePath.problem(with: path, maxPathBytes: context.limits.unpack.maxPathBytes) {
                throw ModelPackError.registry(
                    reference: reference, reason: "refused layer '\(RegistryText.escaped(path))': \(problem)")
            }
            guard seen.insert(path).inserted else { throw twice(path) }
            let mode = layer.annotations?[ModelAnnotation.fileMetadata].flatMap { json in
                (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["mode"] as? Int
            }
            raw.append(
                FileRecord(
                    path: path, role: FileRole.of(path), size: layer.size, sha256: String(layer.digest.dropFirst(7)),
                    executable: (mode ?? 0o644) & 0o100 != 0))
        }
        let limits = context.limits.unpack
        try limits.check(
            files: raw.count, totalSize: raw.reduce(0) { $0 + $1.size }, archiveSize: nil, path: reference)
        let (paths, blobs) = try fetch(
            Array(byDigest.keys).sorted(), byDigest, options: options, context: context, client: client)
        // The files of tar layers (and, for -o, the model directory) in a scratch directory.
        return try TemporaryOutput.withDirectory(nextTo: CacheDirectory.path() + "/foreign") { scratch in
            var sources: [String: String] = [:]  // path -> the file holding it
            for record in raw { sources[record.path] = paths["sha256:" + record.sha256]! }
            var records = raw
            var count = raw.count
            var bytes = raw.reduce(0) { $0 + $1.size }
            for (layer, packing) in packed {
                for file in try packing.unpack(
                    paths[layer.digest]!, size: layer.size, into: scratch, count: &count, bytes: &bytes, limits: limits)
                {
                    guard seen.insert(file.record.path).inserted else { throw twice(file.record.path) }
                    records.append(file.record)
                    sources[file.record.path] = file.scratch
                }
            }
            records.sort { BundlePath.byteOrder($0.path, $1.path) }
            let manifest = Manifest(
                formatVersion: Manifest.currentFormatVersion, tool: "registry", name: remote.config.name ?? "model",
                version: remote.config.version ?? "0", files: records)
            // The paths a bundle's manifest may hold, and no others: nothing in .modelpack/, no two
            // that collide on a case-insensitive file system, no file that is also a folder.
            try manifest.checkPaths(maxPathBytes: limits.maxPathBytes) {
                ModelPackError.registry(reference: reference, reason: "refused: \($0)")
            }
            try limits.check(manifest, archiveSize: manifest.totalSize, bundle: reference)
            let files = records.map {
                SourceFile(path: $0.path, absolutePath: sources[$0.path]!, size: $0.size, executable: $0.executable)
            }
            let missing = [ModelDirectory.metadataFile, ModelDirectory.requirementsFile, ModelDirectory.interfaceFile]
                .filter { name in !records.contains { $0.path == name } }
            if let target = options.unpackTo {
                try Unpacker.materialize(manifest, files: files, to: target, force: options.force, writeManifest: false)
                return PullResult(
                    remote: remote, output: target, container: nil, blobs: blobs.sorted { $0.path < $1.path },
                    requests: client.requestCount, missing: missing)
            }
            guard let target = options.output, let container else {
                throw ModelPackError.usage("give -o BUNDLE or --unpack DIR")
            }
            if !missing.isEmpty {
                throw ModelPackError.registry(
                    reference: reference,
                    reason:
                        "not a complete model for a bundle: it has no \(missing.joined(separator: ", ")) (pull it with --unpack DIR, add what is missing, then `modelpack build DIR`)"
                )
            }
            let model = scratch + "/model"
            try Unpacker.materialize(manifest, files: files, to: model, force: false, writeManifest: false)
            do {
                _ = try Operations.build(
                    BuildOptions(source: model, output: target, format: container, timestamp: remote.timestamp),
                    context: context)
            } catch ModelPackError.validationFailed(let report) {
                throw ModelPackError.validationFailed(report.retargeted(reference))
            }
            return PullResult(
                remote: remote, output: target, container: container, blobs: blobs.sorted { $0.path < $1.path },
                requests: client.requestCount, missing: [])
        }
    }

    /// `inspect oci://REF`: the full audit of a registry artifact, with the same checks as for a
    /// file. The blobs come through the cache into a temporary bundle, which is removed after.
    public static func inspect(
        reference: ImageReference, registry: RegistryOptions = RegistryOptions(), context: RunContext
    ) throws -> BundleAudit {
        try withPulledBundle(reference, registry: registry, context: context) { path in
            let audit = try inspect(path, context: context)
            let summary = audit.summary
            return BundleAudit(
                summary: BundleSummary(
                    path: reference.text, container: summary.container, archiveSize: summary.archiveSize,
                    manifest: summary.manifest, timestamp: summary.timestamp),
                artifacts: audit.artifacts, report: audit.report.retargeted(reference.text))
        }
    }

    /// `body` on a temporary bundle pulled from `reference` (through the blob cache), removed after.
    static func withPulledBundle<T>(
        _ reference: ImageReference, registry: RegistryOptions, context: RunContext, _ body: (String) throws -> T
    ) throws -> T {
        try TemporaryOutput.withDirectory(nextTo: CacheDirectory.path() + "/pulled") { scratch in
            var options = PullOptions(reference: reference, registry: registry)
            options.output = scratch + "/bundle.tar"
            _ = try pull(options, context: context)
            return try body(scratch + "/bundle.tar")
        }
    }

    /// `prune`: the blob cache down to `bytes`, least recently used first (`cache prune` for all of the cache).
    public static func prune(keeping bytes: Int64, cache: BlobCache = BlobCache()) throws -> CacheStore.PruneResult {
        try CacheStore.prune(keeping: bytes, in: FileSystem.parentDirectory(of: cache.root), areas: [.blobs])
    }

    /// `login`: checks the credential against the registry, then stores it where docker would.
    /// Returns where it was stored.
    public static func login(
        registry host: String, username: String, secret: String, realmHosts: [String] = [],
        options: RegistryOptions = RegistryOptions()
    ) throws -> String {
        let reference = try ImageReference(parsing: host + "/modelpack-login-check")
        let credential = RegistryCredential(
            username: username, secret: secret, realmHosts: realmHosts.map { $0.lowercased() })
        let client = try RegistryClient(reference, push: false, options: options, credential: credential)
        try client.checkLogin()
        return try DockerConfig(environment: options.environment).store(credential, for: reference.registry)
    }
}

/// Running a transfer for many items at once.
enum RegistryTransfer {
    private struct State<T> {
        var results: [String: T] = [:]
        var firstError: (any Error)?
        var next = 0
    }

    /// `work` for each item on up to `limit` threads; the first error is thrown after all stop.
    static func concurrently<T: Sendable>(
        _ items: [String], limit: Int, _ work: @escaping @Sendable (String) throws -> T
    )
        throws -> [String: T]
    {
        let state = Locked(State<T>())
        let group = DispatchGroup()
        for _ in 0..<max(1, min(limit, items.count)) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while true {
                    let item: String? = state.withLock {
                        guard $0.firstError == nil, $0.next < items.count else { return nil }
                        $0.next += 1
                        return items[$0.next - 1]
                    }
                    guard let item else { return }
                    do {
                        let result = try work(item)
                        state.withLock { $0.results[item] = result }
                    } catch {
                        state.withLock { if $0.firstError == nil { $0.firstError = error } }
                    }
                }
            }
        }
        group.wait()
        return try state.withLock {
            if let error = $0.firstError { throw error }
            return $0.results
        }
    }
}
