/// Renders the artifact audit: a table of artifacts, then the findings as diagnostics.
package enum AuditReport {
    static let schema = "modelpack.inspect/3"

    struct ArtifactJSON: Encodable {
        let path: String
        let size: Int64
        let format: String
        let verdict: String
        let details: [String: String]
        let imports: [ImportJSON]
        let calls: [String]
        let recordedVersions: [String: [String]]
    }

    struct ImportJSON: Encodable {
        let module: String
        let name: String
        let verdict: String
        let reason: String?
        let offset: Int64
    }

    struct AuditJSON: Encodable {
        let verdict: String
        let errors: Int
        let warnings: Int
        let artifacts: [ArtifactJSON]
        let diagnostics: [Diagnostic]
    }

    /// `modelpack.inspect/1`'s fields and `trustedModules`, with the v3 schema name, plus `audit`.
    struct DocumentJSON: Encodable {
        let inspect: InspectReport.JSON
        let audit: AuditJSON
        let signature: SignatureState
        let referrers: [Referrer]?

        enum CodingKeys: String, CodingKey { case audit, signature, referrers }

        func encode(to encoder: any Encoder) throws {
            try inspect.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(audit, forKey: .audit)
            try c.encode(signature, forKey: .signature)
            try c.encodeIfPresent(referrers, forKey: .referrers)
        }
    }

    package static func table(_ artifacts: [ArtifactAudit]) -> String {
        var table = TextTable(header: ["VERDICT", "FORMAT", "PATH", "DETAILS"])
        for a in artifacts {
            let details = a.details.filter { !$0.value.isEmpty }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")
            table.rows.append([a.verdict.rawValue, a.format.rawValue, a.path, details])
        }
        return table.render() + "\n"
    }

    package static func text(_ audit: BundleAudit, colour: Bool) -> String {
        var out = InspectReport.text(audit.summary)
        out += "signature  \(RegistryReport.signatureText(audit.signature))\n"
        if let referrers = audit.referrers { out += "referrers  \(RegistryReport.referrersText(referrers))\n" }
        out += "\n"
        out += table(audit.artifacts)
        out += "\n" + audit.report.text(colour: colour)
        return out
    }

    static func artifactsJSON(_ artifacts: [ArtifactAudit]) -> [ArtifactJSON] {
        artifacts.map { a in
            ArtifactJSON(
                path: a.path, size: a.size, format: a.format.rawValue, verdict: a.verdict.rawValue,
                details: Dictionary(a.details.map { ($0.key, $0.value) }, uniquingKeysWith: { $0 + "; " + $1 }),
                imports: (a.pickle?.distinctImports ?? []).map {
                    ImportJSON(
                        module: $0.module, name: $0.name, verdict: $0.verdict.rawValue, reason: $0.reason,
                        offset: $0.offset)
                },
                calls: a.pickle?.calls ?? [], recordedVersions: a.pickle?.recordedVersions ?? [:])
        }
    }

    package static func json(_ audit: BundleAudit) -> String {
        var inspect = InspectReport.document(audit.summary)
        inspect.schema = schema
        return StableJSON.encode(
            DocumentJSON(
                inspect: inspect,
                audit: AuditJSON(
                    verdict: audit.verdict.rawValue, errors: audit.report.errorCount,
                    warnings: audit.report.warningCount, artifacts: artifactsJSON(audit.artifacts),
                    diagnostics: audit.report.diagnostics), signature: audit.signature,
                referrers: audit.referrers)) + "\n"
    }

    struct ScanJSON: Encodable {
        let schema = "modelpack.scan/1"
        let verdict: String
        let artifacts: [ArtifactJSON]
        let diagnostics: [Diagnostic]
    }

    package static func scanJSON(_ artifacts: [ArtifactAudit], _ report: DiagnosticReport) -> String {
        StableJSON.encode(
            ScanJSON(
                verdict: (artifacts.map(\.verdict).max() ?? .safe).rawValue,
                artifacts: artifactsJSON(artifacts), diagnostics: report.diagnostics)) + "\n"
    }
}
