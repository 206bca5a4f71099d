/// What a command reports, in every format it takes: text (colour on a terminal), a JSON document
/// with its versioned schema name (Docs/CLI.md), and SARIF 2.1.0 where the report is findings.
/// Every command's result conforms; the CLI's one `emit` prints it (text on stdout, with the
/// notes beside it on stderr), and the command fails (exit 1) when `fails` says so.
package protocol CommandReport {
    func text(colour: Bool) -> String
    func json() -> String
    /// SARIF for a command whose report is findings; nil where SARIF does not apply (the CLI
    /// refuses `--format sarif` then, in one place).
    func sarif() -> String?
    /// What goes to stderr beside a text result: findings that did not stop the command, warnings.
    func textNotes(colour: Bool) -> String?
    /// Whether the command exits 1 with this result (`strict`: warnings count too).
    func fails(strict: Bool) -> Bool
}

extension CommandReport {
    package func sarif() -> String? { nil }
    package func textNotes(colour: Bool) -> String? { nil }
    package func fails(strict: Bool) -> Bool { false }
}

/// Whether a command's report can be SARIF (the types that implement `sarif()` with a document).
package protocol FindingsReport: CommandReport {}

/// `warning: MESSAGE` lines, the prefix in bold yellow with colour (as the CLI prints warnings).
func warningLines(_ messages: [String], colour: Bool) -> String? {
    guard !messages.isEmpty else { return nil }
    let prefix = colour ? "\u{1B}[1;33mwarning:\u{1B}[0m" : "warning:"
    return messages.map { "\(prefix) \($0)" }.joined(separator: "\n")
}

/// Findings as a report of their own: `validate`, and what serve and predict print before they start.
extension DiagnosticReport: FindingsReport {
    package func sarif() -> String? { sarif(toolVersion: ModelPackVersion.current) }
}

extension ModelVerdict: FindingsReport {
    package func text(colour: Bool) -> String { report.text(colour: colour) }
    package func json() -> String { report.json() }
    package func sarif() -> String? { report.sarif() }
}

extension BuildResult: FindingsReport {
    package func text(colour: Bool) -> String {
        "built \(output): \(manifest.name) \(manifest.version), \(manifest.files.count) files, "
            + "\(container.rawValue), \(digest)\n" + (signatureLine.map { $0 + "\n" } ?? "")
            + (provenance.map { "wrote the SLSA provenance to \($0)\n" } ?? "")
            + removedAttachments.map { "removed \($0): it described another bundle; make it again\n" }.joined()
    }
    /// What became of BUNDLE.sig, when there was one.
    var signatureLine: String? {
        switch signature {
        case .kept(let path)?: return "\(path) still signs this bundle (the same content)"
        case .removed(let path, let signed?)?:
            return "removed \(path): it signed \(signed), not this bundle; sign it again"
        case .removed(let path, nil)?: return "removed \(path): it was not a modelpack signature; sign the bundle again"
        case nil: return nil
        }
    }
    package func json() -> String { BuildReport.json(self) }
    package func sarif() -> String? { diagnostics.sarif() }
    package func textNotes(colour: Bool) -> String? {
        diagnostics.diagnostics.isEmpty ? nil : diagnostics.text(colour: colour)
    }
}

extension BundleAudit: FindingsReport {
    package func text(colour: Bool) -> String { AuditReport.text(self, colour: colour) }
    package func json() -> String { AuditReport.json(self) }
    package func sarif() -> String? { report.sarif() }
    package func fails(strict: Bool) -> Bool { report.fails(strict: strict) }
}

extension BundleSummary: CommandReport {
    package func text(colour: Bool) -> String { InspectReport.text(self) }
    package func json() -> String { InspectReport.json(self) }
}

extension RemoteArtifact: CommandReport {
    package func text(colour: Bool) -> String { RegistryReport.text(self) }
    package func json() -> String { RegistryReport.json(self) }
}

extension ScanResult: FindingsReport {
    package func text(colour: Bool) -> String { AuditReport.table(audits) + "\n" + findings.text(colour: colour) }
    package func json() -> String { AuditReport.scanJSON(audits, findings) }
    package func sarif() -> String? { findings.sarif() }
    package func fails(strict: Bool) -> Bool { findings.fails(strict: strict) }
}

extension VerifyResult: FindingsReport {
    package func text(colour: Bool) -> String { VerifyText.text(self) }
    package func json() -> String { VerifyText.json(self) }
    package func sarif() -> String? { findings.sarif() }
    package func fails(strict: Bool) -> Bool { !isValid }
}

extension UnpackResult: FindingsReport {
    package func text(colour: Bool) -> String {
        "unpacked \(summary.manifest.name) \(summary.manifest.version) "
            + "(\(summary.manifest.files.count) files, \(summary.digest)) into \(destination)\n"
    }
    package func json() -> String { UnpackReport.json(summary, destination: destination) }
    package func sarif() -> String? { UnpackReport.sarif(summary) }
}

extension DockerfileResult: FindingsReport {
    package func text(colour: Bool) -> String {
        "wrote \(context.dockerfiles.joined(separator: ", ")) and the build context to \(output)\n"
    }
    package func json() -> String { BuildContextReport.json(self, output: output) }
    package func sarif() -> String? { findings.sarif() }
    package func textNotes(colour: Bool) -> String? {
        let findingsText = findings.diagnostics.isEmpty ? nil : findings.text(colour: colour)
        let notes = [
            findingsText.map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 },
            warningLines(context.warnings, colour: colour),
        ]
        .compactMap { $0 }
        return notes.isEmpty ? nil : notes.joined(separator: "\n")
    }
}

extension PushResult: CommandReport {
    package func text(colour: Bool) -> String { RegistryReport.text(self) }
    package func json() -> String { RegistryReport.json(self) }
}

extension PullResult: CommandReport {
    package func text(colour: Bool) -> String { RegistryReport.text(self) }
    package func json() -> String { RegistryReport.json(self) }
}

extension ModelDiff: CommandReport {
    package func text(colour: Bool) -> String { DiffReport.text(self) }
    package func json() -> String { DiffReport.json(self) }
    package func fails(strict: Bool) -> Bool { !same }
}

extension CacheListResult: CommandReport {
    package func text(colour: Bool) -> String { CacheReport.text(entries, root: root, cap: cap) }
    package func json() -> String { CacheReport.json(entries, root: root, cap: cap) }
}

extension CachePruneResult: CommandReport {
    package func text(colour: Bool) -> String { CacheReport.text(result, root: root, dryRun: dryRun) }
    package func json() -> String { CacheReport.json(result, root: root, dryRun: dryRun) }
}

extension BlobPruneResult: CommandReport {
    package func text(colour: Bool) -> String {
        "removed \(result.removed.count) blob(s), \(ByteCount.human(result.freedBytes)); "
            + "\(ByteCount.human(result.keptBytes)) kept in \(root)\n"
    }
    package func json() -> String { CacheReport.json(result, root: root, dryRun: false) }
}

extension KeygenResult: CommandReport {
    struct JSON: Encodable {
        let schema = "modelpack.keygen/1"
        let privateKey: String
        let publicKey: String
        let type: String
        let keyID: String
    }
    package func text(colour: Bool) -> String {
        "wrote \(privatePath) (private, 0600) and \(publicPath); key id \(keyID)\n"
    }
    package func json() -> String {
        StableJSON.encode(JSON(privateKey: privatePath, publicKey: publicPath, type: type.rawValue, keyID: keyID))
            + "\n"
    }
}

extension SignResult: CommandReport {
    struct JSON: Encodable {
        let schema = "modelpack.sign/1"
        let bundle: String
        let digest: String
        let signature: String
        let format: String
        let keyID: String
    }
    package func text(colour: Bool) -> String {
        let how = format == .oms ? " (OMS)" : ""
        return "signed \(bundle) (\(digest)) with key \(keyID): \(signature)\(how)\n"
    }
    package func json() -> String {
        StableJSON.encode(
            JSON(bundle: bundle, digest: digest, signature: signature, format: format.rawValue, keyID: keyID)) + "\n"
    }
}

extension LoginResult: CommandReport {
    struct JSON: Encodable {
        let schema = "modelpack.login/1"
        let registry: String
        let username: String
        let storedIn: String
    }
    package func text(colour: Bool) -> String {
        "logged in to \(registry) as \(username); credentials stored in \(storedIn)\n"
    }
    package func json() -> String {
        StableJSON.encode(JSON(registry: registry, username: username, storedIn: storedIn)) + "\n"
    }
}

extension BOMResult: CommandReport {
    package func text(colour: Bool) -> String {
        output.map { "wrote the ML-BOM (CycloneDX 1.6) of \(model) to \($0)\n" } ?? document
    }
    /// `modelpack.bom/1`: model, output (null when shown) and the BOM itself as `bom`.
    package func json() -> String {
        "{\"bom\": " + document.trimmingCharacters(in: .whitespacesAndNewlines) + ", \"model\": "
            + StableJSON.encode(model) + ", \"output\": " + (output.map { StableJSON.encode($0) } ?? "null")
            + ", \"schema\": \"modelpack.bom/1\"}\n"
    }
}

extension CardResult: CommandReport {
    struct JSON: Encodable {
        let schema = "modelpack.card/1"
        let model: String
        /// Always present: null when the card was shown rather than written.
        let output: String?
        let markdown: String

        enum CodingKeys: String, CodingKey { case schema, model, output, markdown }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(model, forKey: .model)
            try c.encode(output, forKey: .output)
            try c.encode(markdown, forKey: .markdown)
        }
    }
    package func text(colour: Bool) -> String {
        output.map { "wrote the model card of \(model) to \($0)\n" } ?? markdown
    }
    package func json() -> String { StableJSON.encode(JSON(model: model, output: output, markdown: markdown)) + "\n" }
}

extension InitResult: CommandReport {
    struct JSON: Encodable {
        let schema = "modelpack.init/1"
        let directory: String
        let written: [String]
        let notes: [String]
    }
    package func text(colour: Bool) -> String {
        written.map { "wrote \(directory)/\($0)\n" }.joined() + notes.map { "note: \($0)\n" }.joined()
            + "next: fill in what metadata.yaml marks, then modelpack validate \(directory)\n"
    }
    package func json() -> String {
        StableJSON.encode(JSON(directory: directory, written: written, notes: notes)) + "\n"
    }
}
