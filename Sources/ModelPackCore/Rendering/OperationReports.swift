/// `build --format json`, `modelpack.build/1`: the new bundle's `modelpack.inspect/1` fields and
/// `trustedModules` (from what the build knew, without reopening the bundle), with the findings.
package enum BuildReport {
    struct JSON: Encodable {
        let inspect: InspectReport.JSON
        let diagnostics: [Diagnostic]
        let signature: Signature?
        /// The provenance statement written (`--provenance`).
        let provenance: String?
        /// BUNDLE.bom.json and BUNDLE.provenance.json removed (they described another bundle).
        let removedAttachments: [String]

        /// BUNDLE.sig beside the output: `kept` (it covers this bundle) or `removed`, with the
        /// digest it signed.
        struct Signature: Encodable {
            let path: String
            let action: String
            let signed: String?
        }

        enum CodingKeys: String, CodingKey { case diagnostics, signature, provenance, removedAttachments }

        func encode(to encoder: any Encoder) throws {
            try inspect.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(diagnostics, forKey: .diagnostics)
            try c.encodeIfPresent(signature, forKey: .signature)
            try c.encodeIfPresent(provenance, forKey: .provenance)
            if !removedAttachments.isEmpty { try c.encode(removedAttachments, forKey: .removedAttachments) }
        }
    }

    package static func json(_ result: BuildResult) -> String {
        let summary = BundleSummary(
            path: result.output, container: result.container, archiveSize: result.bytesWritten,
            manifest: result.manifest, timestamp: result.timestamp)
        var inspect = InspectReport.document(summary)
        inspect.schema = "modelpack.build/1"
        let signature: JSON.Signature? =
            switch result.signature {
            case .kept(let path)?: JSON.Signature(path: path, action: "kept", signed: result.digest)
            case .removed(let path, let signed)?: JSON.Signature(path: path, action: "removed", signed: signed)
            case nil: nil
            }
        return StableJSON.encode(
            JSON(
                inspect: inspect, diagnostics: result.diagnostics.diagnostics, signature: signature,
                provenance: result.provenance, removedAttachments: result.removedAttachments)) + "\n"
    }
}

/// `unpack --format json|sarif`.
package enum UnpackReport {
    struct JSON: Encodable {
        let schema = "modelpack.unpack/1"
        let bundle: String
        let destination: String
        let name: String
        let version: String
        let digest: String
        let files: [FileRecord]
    }

    package static func json(_ summary: BundleSummary, destination: String) -> String {
        StableJSON.encode(
            JSON(
                bundle: summary.path, destination: destination, name: summary.manifest.name,
                version: summary.manifest.version, digest: summary.digest, files: summary.manifest.files)) + "\n"
    }

    /// An unpack that succeeded has nothing to report: a run with no results (a refusal is an
    /// error line and exit 1).
    package static func sarif(_ summary: BundleSummary) -> String {
        DiagnosticReport(target: summary.path, isBundle: true, diagnostics: [], sources: [:])
            .sarif(toolVersion: ModelPackVersion.current)
    }
}

/// `dockerfile --format json`.
package enum BuildContextReport {
    struct JSON: Encodable {
        let schema = "modelpack.dockerfile/1"
        let output: String
        let digest: String
        let dockerfiles: [String]
        let warnings: [String]
        let diagnostics: [Diagnostic]
    }

    package static func json(_ result: DockerfileResult, output: String) -> String {
        StableJSON.encode(
            JSON(
                output: output, digest: result.context.digest, dockerfiles: result.context.dockerfiles,
                warnings: result.context.warnings, diagnostics: result.findings.diagnostics)) + "\n"
    }
}
