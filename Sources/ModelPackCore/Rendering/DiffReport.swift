/// Renders `diff`.
package enum DiffReport {
    struct JSON: Encodable {
        let schema = "modelpack.diff/1"
        let before: String
        let after: String
        let beforeDigest: String
        let afterDigest: String
        let same: Bool
        let incompatible: Bool
        let files: [ModelDiff.FileChange]
        let unchangedFiles: Int
        let metadata: [ModelDiff.FieldChange]
        let requirements: [ModelDiff.RequirementChange]
        let verdicts: [ModelDiff.VerdictChange]
        let schemaChanges: [ModelDiff.SchemaChange]

        enum CodingKeys: String, CodingKey {
            case schema, before, after, beforeDigest, afterDigest, same, incompatible, files, unchangedFiles, metadata
            case requirements, verdicts
            case schemaChanges = "ioSchema"
        }

        /// Every key present; absent values are null.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
            try c.encode(beforeDigest, forKey: .beforeDigest)
            try c.encode(afterDigest, forKey: .afterDigest)
            try c.encode(same, forKey: .same)
            try c.encode(incompatible, forKey: .incompatible)
            try c.encode(files, forKey: .files)
            try c.encode(unchangedFiles, forKey: .unchangedFiles)
            try c.encode(metadata, forKey: .metadata)
            try c.encode(requirements, forKey: .requirements)
            try c.encode(verdicts, forKey: .verdicts)
            try c.encode(schemaChanges, forKey: .schemaChanges)
        }
    }

    package static func json(_ diff: ModelDiff) -> String {
        StableJSON.encode(
            JSON(
                before: diff.before, after: diff.after, beforeDigest: diff.beforeDigest, afterDigest: diff.afterDigest,
                same: diff.same, incompatible: diff.incompatible, files: diff.files,
                unchangedFiles: diff.unchangedFiles,
                metadata: diff.metadata, requirements: diff.requirements, verdicts: diff.verdicts,
                schemaChanges: diff.schema)) + "\n"
    }

    package static func text(_ diff: ModelDiff) -> String {
        var out = "diff \(diff.before) -> \(diff.after)\n"
        out += "  before \(diff.beforeDigest)\n  after  \(diff.afterDigest)\n"
        if diff.same {
            return out + "same: no file, metadata, requirement, verdict or schema differs\n"
        }
        if !diff.files.isEmpty {
            let count = { (k: ModelDiff.FileChangeKind) in diff.files.filter { $0.change == k }.count }
            out +=
                "\nfiles: \(count(.changed)) changed, \(count(.added)) added, \(count(.removed)) removed, "
                + "\(diff.unchangedFiles) unchanged\n"
            var table = TextTable(header: ["CHANGE", "SIZE", "PATH"], rightAligned: [])
            for f in diff.files {
                let size: String
                switch f.change {
                case .added: size = ByteCount.human(f.afterSize ?? 0)
                case .removed: size = ByteCount.human(f.beforeSize ?? 0)
                case .changed: size = ByteCount.human(f.beforeSize ?? 0) + " -> " + ByteCount.human(f.afterSize ?? 0)
                }
                table.rows.append([f.change.rawValue, size, f.path])
            }
            out += indent(table.render())
        }
        if !diff.metadata.isEmpty {
            out += "\nmetadata.yaml:\n"
            for m in diff.metadata {
                out += "  \(m.field): \(m.before ?? "(absent)") -> \(m.after ?? "(absent)")\n"
            }
        }
        if !diff.requirements.isEmpty {
            out += "\nrequirements:\n"
            for r in diff.requirements {
                out += "  \(r.change.rawValue) \(r.name): \(r.before ?? "(absent)") -> \(r.after ?? "(absent)")\n"
            }
        }
        if !diff.verdicts.isEmpty {
            out += "\naudit verdicts:\n"
            for v in diff.verdicts {
                out +=
                    "  \(v.path): \(v.before?.rawValue ?? "(no artifact)") -> \(v.after?.rawValue ?? "(no artifact)")\n"
            }
        }
        if !diff.schema.isEmpty {
            out += "\ninputs and outputs:\n"
            for s in diff.schema {
                out +=
                    "  \(s.compatible ? "" : "INCOMPATIBLE ")\(s.side).\(s.name): \(s.change) "
                    + "(\(s.before ?? "absent") -> \(s.after ?? "absent"))\n"
            }
        }
        out +=
            diff.incompatible
            ? "\nINCOMPATIBLE: callers of the model as it was can break on the changes above\n" : ""
        return out
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
            .joined(separator: "\n") + (text.hasSuffix("\n") ? "" : "\n")
    }
}
