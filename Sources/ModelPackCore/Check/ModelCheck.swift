/// What the checks concluded about a model: its findings, its artifacts' audits, and for a bundle
/// its manifest. Every command that judges a model takes its verdict from `ModelCheck`.
package struct ModelVerdict: Sendable {
    package let report: DiagnosticReport
    package let audits: [ArtifactAudit]
    /// The bundle's manifest and container (nil for a directory).
    package let summary: BundleSummary?
    /// Artifacts whose loading runs something the audit cannot vouch for (what --allow-unsafe
    /// lets through: dangerous, or a call not on the allowlist).
    package var unsafeArtifacts: [String] { audits.filter(\.runsSomething).map(\.path) }
    /// The model's name, version and trusted modules as metadata.yaml gives them.
    let name: String?
    let version: String?
    let trustedModules: [String]
    /// A directory's files and their records, for `build`.
    let files: [SourceFile]
    let records: [FileRecord]
    /// The limits the model was checked with (what reads its texts again: the card, diff).
    let limits: Limits
    /// What the file checks read: metadata.yaml's schema fields and text, the requirements (diff).
    let metadata: MetadataDocument
    let metadataText: [UInt8]?
    let requirements: RequirementsFile
    /// The requirements files' bytes, by path in the model (requirements.txt and its includes).
    let requirementTexts: [String: [UInt8]]

    /// The files with their digests: the bundle's manifest, or what `build` would record.
    var fileRecords: [FileRecord] { summary?.manifest.files ?? records }

    /// The manifest `build` records for this directory.
    func directoryManifest(allowUnsafe: Bool = false) -> Manifest {
        Manifest(
            formatVersion: Manifest.currentFormatVersion, tool: ModelPackVersion.tool, name: name ?? "",
            version: version ?? "", allowedUnsafe: allowUnsafe ? unsafeArtifacts : [],
            trustedModules: trustedModules.sorted(), files: records)
    }

    /// The bundle digest: the bundle's, or the one `build` would give this directory now.
    var bundleDigest: String { summary?.digest ?? directoryManifest().digest }

    package func fails(strict: Bool) -> Bool { report.fails(strict: strict) }

    /// The same verdict with one more finding (a later check's: validate --resolve), its file's
    /// lines read from the model's requirements texts for the rendering.
    func adding(_ finding: Diagnostic) -> ModelVerdict {
        var sources = report.sources
        if sources[finding.file] == nil, let bytes = requirementTexts[finding.file] {
            sources[finding.file] = String(decoding: bytes, as: UTF8.self).split(
                separator: "\n", omittingEmptySubsequences: false
            ).map(String.init)
        }
        var collector = DiagnosticCollector()
        for diagnostic in report.diagnostics + [finding] { collector.add(diagnostic) }
        return ModelVerdict(
            report: DiagnosticReport(
                target: report.target, isBundle: report.isBundle, diagnostics: collector.sorted, sources: sources),
            audits: audits, summary: summary, name: name, version: version, trustedModules: trustedModules,
            files: files, records: records, limits: limits, metadata: metadata, metadataText: metadataText,
            requirements: requirements, requirementTexts: requirementTexts)
    }
}

/// The one check pipeline. The same input gives the same findings, codes and exit status whichever
/// command asks (validate, build, inspect, dockerfile, serve), for a directory and a bundle alike:
///
/// 1. the required files, metadata.yaml against the schema (with its example against the
///    declared inputs), requirements.txt and its includes, interface.py's contract, the declared
///    artifacts (`FileChecks`);
/// 2. every artifact's content audit, judged against the modules the model ships or trusts;
/// 3. the environment: recorded versions against the pins, and every module a pickle or
///    interface.py imports against the standard library, the bundle's modules and the requirements.
package enum ModelCheck {
    /// What a command lets through: `allowUnsafe` turns the findings that loading an artifact runs
    /// something into warnings, nothing else (build, dockerfile and serve take it; an audit never
    /// does).
    package struct Policy: Sendable {
        package var allowUnsafe = false
        package init(allowUnsafe: Bool = false) { self.allowUnsafe = allowUnsafe }
    }

    /// Checks a model directory or a bundle.
    package static func check(_ path: String, policy: Policy = Policy(), context: RunContext) throws -> ModelVerdict {
        guard let info = try FileSystem.lstatInfo(path) else {
            throw ModelPackError.inputMissing(path: path)
        }
        return info.kind == .directory
            ? try directory(path, policy: policy, context: context) : try bundle(path, policy: policy, context: context)
    }

    /// What the file checks found before any artifact is read: what `build` needs to start the
    /// bundle in the same read as the audit (`directory(packing:)`).
    struct FirstLook {
        let name: String?
        let version: String?
        let trustedModules: [String]
        let files: [SourceFile]
        let diagnostics: [Diagnostic]

        /// The finished report's rule, on the findings so far.
        func fails(strict: Bool) -> Bool {
            DiagnosticReport(target: "", isBundle: false, diagnostics: diagnostics, sources: [:]).fails(strict: strict)
        }

        /// The manifest with every digest still unknown (zeros): the same length as the real one
        /// unless the audit adds `allowedUnsafe` paths.
        var draftManifest: Manifest? {
            guard let name, let version else { return nil }
            let zeros = String(repeating: "0", count: 64)
            return Manifest(
                formatVersion: Manifest.currentFormatVersion, tool: ModelPackVersion.tool, name: name,
                version: version, allowedUnsafe: [], trustedModules: trustedModules.sorted(),
                files: files.map {
                    FileRecord(
                        path: $0.path, role: FileRole.of($0.path), size: $0.size, sha256: zeros,
                        executable: $0.executable)
                })
        }
    }

    /// A model directory, as `build` would pack it (leaving out `excluding`). `packing` is shown
    /// the file checks' findings before the artifacts are read; the writer it returns, if any, gets
    /// every file's bytes from the same read as the audit and the hashing.
    static func directory(
        _ root: String, excluding: Set<String> = [], policy: Policy, context: RunContext,
        packing: ((FirstLook) throws -> BundleWriter?)? = nil
    ) throws -> ModelVerdict {
        var source = try ModelSource.directory(root, excluding: excluding, limits: context.limits.unpack)
        // Not a model at all (the wrong folder): one line, rather than a finding per file inside.
        if ModelDirectory.requiredFiles.allSatisfy({ source.sizes[$0] == nil }) {
            throw ModelPackError.invalidModel(
                path: root,
                reason: "not a model directory: it has none of "
                    + ModelDirectory.requiredFiles.joined(separator: ", "))
        }
        var files = FileChecks.run(source, context: context)
        let writer = try packing?(
            FirstLook(
                name: files.metadata.name?.value, version: files.metadata.version?.value,
                trustedModules: files.metadata.trustedModules, files: source.files,
                diagnostics: files.collector.diagnostics))
        try source.auditFiles(
            context: AuditContext(
                paths: source.paths, trustedModules: files.metadata.trustedModules, limits: context.limits),
            progress: context.progress, packing: writer)
        return finish(source, target: root, files: &files, policy: policy, limits: context.limits)
    }

    /// A bundle, read once without unpacking.
    static func bundle(_ path: String, policy: Policy, context: RunContext) throws -> ModelVerdict {
        let source = try ModelSource.bundle(path, run: context)
        var files = FileChecks.run(source, context: context)
        return finish(source, target: path, files: &files, policy: policy, limits: context.limits)
    }

    private static func finish(
        _ source: ModelSource, target: String, files: inout FileChecks.Result, policy: Policy, limits: Limits
    ) -> ModelVerdict {
        var collector = files.collector
        // An artifact the audit did not read is an error where interface.py may unpickle it.
        let interface = source.texts[ModelDirectory.interfaceFile].flatMap { String(validating: $0, as: UTF8.self) }
        let loaded = PickleLoaders.judge(source.audits, interface: interface)
        let audits = source.audits.map { audit in
            var audit = audit
            if let why = loaded[audit.path] { audit.loadedByPickle(why) }
            return audit
        }
        for audit in audits {
            for d in audit.diagnostics {
                guard policy.allowUnsafe && d.saysLoadingRunsSomething && d.severity == .error else {
                    collector.add(d)
                    continue
                }
                collector.add(
                    Diagnostic(
                        d.code, d.message + " (allowed: \(CommandFlag.allowUnsafe))", file: d.file, line: d.line,
                        column: d.column, hint: d.hint, severity: .warning))
            }
        }
        let shipped = AuditContext.modules(in: source.paths)
        EnvironmentCheck.check(
            source.audits, requirements: files.requirements, bundleModules: shipped, into: &collector)
        ArtifactFactsCheck.check(source.audits, metadata: files.metadata, into: &collector)
        // interface.py, then every module of the model's own that it imports, and theirs (each
        // runs when imported); a file nothing imports (train.py) is not followed.
        let pythonFiles = Set(source.texts.keys.filter { $0.hasSuffix(".py") })
        var queue = [ModelDirectory.interfaceFile]
        var seen = Set(queue)
        var next = 0
        while next < queue.count {
            let path = queue[next]
            next += 1
            guard let bytes = source.texts[path], let text = String(validating: bytes, as: UTF8.self) else { continue }
            ImportCoverage.checkInterface(
                text, file: path, requirements: files.requirementNames, bundleModules: shipped, into: &collector)
            for module in ImportCoverage.shippedImports(text, among: pythonFiles) where seen.insert(module).inserted {
                queue.append(module)
            }
        }
        let report = FileChecks.report(for: target, source: source, collector: collector)
        return ModelVerdict(
            report: report, audits: audits, summary: source.summary, name: files.metadata.name?.value,
            version: files.metadata.version?.value, trustedModules: files.metadata.trustedModules,
            files: source.files, records: source.records, limits: limits, metadata: files.metadata,
            metadataText: source.texts[ModelDirectory.metadataFile], requirements: files.requirements,
            requirementTexts: files.requirements.files.reduce(into: [:]) { texts, file in
                texts[file] = source.texts[file]
            })
    }
}
