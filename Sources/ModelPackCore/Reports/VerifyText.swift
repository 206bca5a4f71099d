/// Renders `verify`.
public enum VerifyText {
    static let schema = "modelpack.verify/1"

    struct JSON: Encodable {
        let schema: String
        let bundle: String
        let digest: String
        let valid: Bool
        let readError: String?
        let files: [FileCheck]

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(bundle, forKey: .bundle)
            try c.encode(digest, forKey: .digest)
            try c.encode(valid, forKey: .valid)
            try c.encode(readError, forKey: .readError)  // always present, null when readable
            try c.encode(files, forKey: .files)
        }

        enum CodingKeys: String, CodingKey { case schema, bundle, digest, valid, readError, files }
    }

    public static func text(_ report: VerifyReport) -> String {
        var lines: [String] = []
        for check in report.files {
            let status = check.status.rawValue.uppercased()
            lines.append(check.detail.map { "\(status)  \(check.path): \($0)" } ?? "\(status)  \(check.path)")
        }
        if let error = report.readError { lines.append("UNREADABLE  \(error)") }
        let bad = report.files.filter { $0.status != .ok }.count
        let verdict =
            report.isValid
            ? "verified: \(report.files.count) files match \(report.summary.digest)"
            : "FAILED: \(bad) of \(report.summary.manifest.files.count) files do not match \(report.summary.digest)"
                + (report.readError != nil ? "; the archive is unreadable" : "")
        return (lines + [verdict]).joined(separator: "\n") + "\n"
    }

    public static func json(_ report: VerifyReport) -> String {
        StableJSON.encode(
            JSON(
                schema: schema, bundle: report.summary.path, digest: report.summary.digest,
                valid: report.isValid, readError: report.readError, files: report.files)) + "\n"
    }
}
