/// Renders `verify`.
package enum VerifyText {
    static let schema = "modelpack.verify/2"

    struct JSON: Encodable {
        let schema: String
        let bundle: String
        let digest: String
        let valid: Bool
        let readError: String?
        let files: [FileCheck]
        let signature: SignatureJSON

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(bundle, forKey: .bundle)
            try c.encode(digest, forKey: .digest)
            try c.encode(valid, forKey: .valid)
            try c.encode(readError, forKey: .readError)  // always present, null when readable
            try c.encode(files, forKey: .files)
            try c.encode(signature, forKey: .signature)
        }

        enum CodingKeys: String, CodingKey { case schema, bundle, digest, valid, readError, files, signature }
    }

    struct SignatureJSON: Encodable {
        let status: String
        let keyID: String?
        let detail: String?

        init(_ verdict: BundleSignature.Verdict?) {
            switch verdict {
            case nil: (status, keyID, detail) = ("not-checked", nil, nil)
            case .valid(let id)?: (status, keyID, detail) = ("valid", id, nil)
            case .unsigned?: (status, keyID, detail) = ("unsigned", nil, nil)
            case .invalid(let why)?: (status, keyID, detail) = ("invalid", nil, why)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(status, forKey: .status)
            try c.encode(keyID, forKey: .keyID)
            try c.encode(detail, forKey: .detail)
        }

        enum CodingKeys: String, CodingKey { case status, keyID, detail }
    }

    static func signatureLine(_ verdict: BundleSignature.Verdict?) -> String? {
        switch verdict {
        case nil: return nil
        case .valid(let id)?: return "SIGNATURE valid, by key \(id)"
        case .unsigned?: return "SIGNATURE missing: the bundle is not signed"
        case .invalid(let why)?: return "SIGNATURE invalid: \(why)"
        }
    }

    package static func text(_ result: VerifyResult) -> String {
        let report = result.report, signature = result.signature
        var lines: [String] = []
        for check in report.files {
            let status = check.status.rawValue.uppercased()
            lines.append(check.detail.map { "\(status)  \(check.path): \($0)" } ?? "\(status)  \(check.path)")
        }
        if let error = report.readError { lines.append("BROKEN  \(error)") }
        let bad = report.files.filter { $0.status != .ok }.count
        let verdict: String
        if result.isValid {
            verdict = "verified: \(report.files.count) files match \(report.digest)"
        } else if report.files.isEmpty && report.listed == 0 {
            verdict = "FAILED: the signature is not valid; the files were not checked against it"
        } else if bad == 0 && report.readError == nil {
            verdict = "FAILED: the files match \(report.digest), but the signature is not valid"
        } else {
            verdict =
                "FAILED: \(bad) of \(report.listed) files do not match or could not be read, "
                + "against \(report.digest)"
                + (report.readError != nil ? "; the archive breaks (truncated or corrupt)" : "")
        }
        return (lines + [signatureLine(signature)].compactMap { $0 } + [verdict]).joined(separator: "\n") + "\n"
    }

    package static func json(_ result: VerifyResult) -> String {
        let report = result.report
        return StableJSON.encode(
            JSON(
                schema: schema, bundle: report.path, digest: report.digest,
                valid: result.isValid, readError: report.readError, files: report.files,
                signature: SignatureJSON(result.signature))) + "\n"
    }
}
