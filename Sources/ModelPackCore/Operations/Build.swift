import Foundation

/// What `build` needs to know.
package struct BuildOptions: Sendable {
    package var source: String
    package var output: String
    package var format: ContainerFormat
    /// Every entry's timestamp; `SOURCE_DATE_EPOCH` when set, else 1980-01-01 (the zip epoch).
    package var timestamp: Int64
    /// Refuse to build on warnings too, not only on errors.
    package var strict: Bool
    /// Pack artifacts the audit finds dangerous; the manifest lists them in `allowedUnsafe`.
    package var allowUnsafe = false
    /// Write an SLSA provenance statement here, signed with `provenanceKey` when one is given.
    package var provenance: String?
    package var provenanceKey: String?

    package init(
        source: String, output: String, format: ContainerFormat,
        timestamp: Int64 = SourceDate.timestamp(), strict: Bool = false
    ) {
        self.source = source
        self.output = output
        self.format = format
        self.timestamp = timestamp
        self.strict = strict
    }

}

package struct BuildResult: Sendable {
    package let manifest: Manifest
    /// What the checks found (warnings and notes only: errors stop the build).
    package let diagnostics: DiagnosticReport
    package let audits: [ArtifactAudit]
    package let output: String
    package let bytesWritten: Int64
    package let container: ContainerFormat
    package let timestamp: Int64
    /// What became of a BUNDLE.sig that was beside the output; nil when there was none.
    package let signature: BundleSignature.Fate?
    /// The provenance statement written, when one was asked for.
    package var provenance: String? = nil
    /// BUNDLE.bom.json and BUNDLE.provenance.json removed: they described another bundle.
    package var removedAttachments: [String] = []
    package var digest: String { manifest.digest }
}

extension Operations {
    /// `build`: the one check pipeline on the directory, whose one read of each file also hashes
    /// it and, in zip and tar, writes it into the bundle (`BundleWriter`); the bundle is renamed
    /// into place only when the checks allow it.
    package static func build(_ options: BuildOptions, context: RunContext) throws -> BuildResult {
        let started = Date()
        // The provenance's key reads before anything is written.
        let provenanceKey = try options.provenanceKey.map(SigningKeys.loadPrivate)
        let root = try FileSystem.realPath(options.source)
        try FileSystem.checkOutputFile(options.output, naming: "a bundle file name")
        let output =
            try FileSystem.realPath(FileSystem.parentDirectory(of: options.output)) + "/"
            + FileSystem.lastComponent(of: options.output)
        // The same checks as `validate`, on the files that would be packed. The bundle is begun
        // in the same read unless the file checks already refuse the model.
        var packing: BundleWriter?
        let verdict: ModelVerdict
        do {
            verdict = try ModelCheck.directory(
                root, excluding: [output], policy: ModelCheck.Policy(allowUnsafe: options.allowUnsafe), context: context
            ) { look in
                guard ArchiveWriter.canReserve(options.format), !look.fails(strict: options.strict),
                    let draft = look.draftManifest
                else { return nil }
                packing = try BundleWriter(
                    manifest: draft, reserving: true, to: output, displayName: options.output,
                    format: options.format, timestamp: options.timestamp)
                return packing
            }
        } catch let error as ModelPackError {
            throw error.naming(options.source, insteadOf: root)  // the directory as the user named it
        }
        let report = verdict.report.retargeted(options.source)
        guard !report.fails(strict: options.strict), verdict.name != nil, verdict.version != nil else {
            packing?.discard()
            throw ModelPackError.validationFailed(report)
        }
        let manifest = verdict.directoryManifest(allowUnsafe: options.allowUnsafe)
        // tar.gz, tar.zst, or a manifest longer than reserved (allowedUnsafe paths): a second read.
        let bytes =
            try packing?.complete(manifest)
            ?? BundleWriter.write(
                manifest, files: verdict.files, to: output, displayName: options.output, format: options.format,
                timestamp: options.timestamp, progress: context.progress)
        // A signature beside the old bundle that does not cover this one is removed, not left to
        // fail every verify (and be pushed).
        let signature = try BundleSignature.reconcile(bundle: options.output, manifest: manifest)
        var result = BuildResult(
            manifest: manifest, diagnostics: report, audits: verdict.audits, output: options.output,
            bytesWritten: bytes, container: options.format, timestamp: options.timestamp, signature: signature)
        if let path = options.provenance {
            try Provenance.write(
                Provenance.Build(
                    source: options.source, output: options.output, container: options.format.rawValue,
                    timestamp: options.timestamp, strict: options.strict, allowUnsafe: options.allowUnsafe,
                    manifest: manifest, started: started, finished: Date()), to: path, key: provenanceKey)
            result.provenance = path
        }
        // So are a BOM and a provenance beside it that describe other content.
        result.removedAttachments = try Attachment.reconcile(bundle: options.output, manifest: manifest)
        return result
    }
}
