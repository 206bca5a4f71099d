/// What `scan` found: every file's audit, and their findings.
package struct ScanResult: Sendable {
    package let audits: [ArtifactAudit]
    package let findings: DiagnosticReport
}

extension Operations {
    /// `scan`: the artifact audit on loose files (outside any bundle), each by its content.
    package static func scan(_ paths: [String], context: RunContext) throws -> ScanResult {
        var audits: [ArtifactAudit] = []
        for path in paths {
            guard let info = try FileSystem.lstatInfo(path) else { throw ModelPackError.inputMissing(path: path) }
            guard info.kind == .regular else {
                throw ModelPackError.unreadable(path: path, reason: "not a regular file")
            }
            let file = try InputFile(path: path)
            let reader = ByteReader { try file.read(into: $0) }
            audits.append(
                try ArtifactAuditor.audit(
                    path: path, size: info.size, reader: reader, filePath: path,
                    context: AuditContext(limits: context.limits)))
        }
        var collector = DiagnosticCollector()
        audits.flatMap(\.diagnostics).forEach { collector.add($0) }
        return ScanResult(
            audits: audits,
            findings: DiagnosticReport(target: "", isBundle: false, diagnostics: collector.sorted, sources: [:]))
    }
}
