/// The result of `inspect`'s audit: the manifest, every artifact's audit, and all findings.
public struct BundleAudit: Sendable {
    public let summary: BundleSummary
    public let artifacts: [ArtifactAudit]
    public let report: DiagnosticReport

    public var verdict: ImportVerdict { artifacts.map(\.verdict).max() ?? .safe }
}

/// Audits every artifact of a bundle without unpacking it: each entry is read once, hashed and
/// checked against the manifest as it is scanned (so a tampered bundle is refused, as by verify).
public enum BundleAuditor {
    public static func audit(_ path: String) throws -> BundleAudit {
        let (reader, summary) = try BundleReader.open(path)
        var audits: [ArtifactAudit] = []
        var texts: [String: [UInt8]] = [:]
        let records = Dictionary(uniqueKeysWithValues: summary.manifest.files.map { ($0.path, $0) })
        var seen = Set<String>()
        while let entry = try reader.next() {
            guard let name = entry.path, entry.kind == .regular, let record = records[name], seen.insert(name).inserted
            else {
                throw ModelPackError.invalidBundle(
                    path: path,
                    reason: "refused entry '\(entry.path ?? "?")': not a file the manifest lists (run verify)")
            }
            var hash = SHA256Stream()
            let source: (UnsafeMutableRawBufferPointer) throws -> Int = { buffer in
                let n = try reader.read(into: buffer)
                hash.update(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                return n
            }
            let bytes = ByteReader(source: source)
            if record.role == .artifact {
                audits.append(try ArtifactAuditor.audit(path: name, size: record.size, reader: bytes, filePath: nil))
            } else if ModelSource.isText(name) {
                texts[name] = try bytes.bytes(record.size, keepingAtMost: ModelSource.maxTextBytes)
            }
            while try !bytes.chunk(1 << 20).isEmpty {}  // the rest, hashed
            guard hash.byteCount == record.size, hash.finalizeHex() == record.sha256 else {
                throw ModelPackError.invalidBundle(
                    path: path, reason: "'\(name)' does not match the manifest (run verify)")
            }
        }
        if let missing = summary.manifest.files.first(where: { !seen.contains($0.path) }) {
            throw ModelPackError.invalidBundle(
                path: path, reason: "'\(missing.path)' is listed in the manifest but not in the archive")
        }
        var collector = DiagnosticCollector()
        audits.flatMap(\.diagnostics).forEach { collector.add($0) }
        EnvironmentCheck.run(audits, texts: texts, paths: summary.manifest.files.map(\.path), into: &collector)
        let report = DiagnosticReport(target: path, isBundle: true, diagnostics: collector.sorted, sources: [:])
        return BundleAudit(summary: summary, artifacts: audits, report: report)
    }
}
