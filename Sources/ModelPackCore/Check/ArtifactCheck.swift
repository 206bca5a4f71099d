/// Artifacts: what metadata declares exists, nothing declared points outside the model, no
/// artifact is empty, and the model has at least one.
enum ArtifactCheck {
    static func check(
        _ source: ModelSource, metadata: MetadataDocument, maxPathBytes: Int, into collector: inout DiagnosticCollector
    ) {
        let artifacts = source.sizes.filter { FileRole.of($0.key) == .artifact }
        for declared in metadata.artifacts {
            var path = declared.value
            while path.hasPrefix("./") { path.removeFirst(2) }
            if path.hasPrefix("/") || path.split(separator: "/").contains("..")
                || BundlePath.problem(with: path, maxPathBytes: maxPathBytes) != nil
            {
                collector.add(
                    .artifactOutside, "artifact '\(declared.value)' is not a path inside the model directory",
                    file: MetadataSchema.file, at: declared.mark,
                    hint: "artifacts are relative to the model directory, without '..'")
                continue
            }
            if let size = source.sizes[path] {
                if size == 0 {
                    collector.add(
                        .artifactEmpty, "declared artifact '\(path)' is empty", file: MetadataSchema.file,
                        at: declared.mark)
                }
            } else if !source.sizes.keys.contains(where: { $0.hasPrefix(path.hasSuffix("/") ? path : path + "/") }) {
                let near = NearMiss.suggestion(for: path, among: Array(artifacts.keys).sorted())
                collector.add(
                    .artifactMissing,
                    "declared artifact '\(path)' does not exist"
                        + (near.map { "; did you mean '\($0)'?" } ?? ""), file: MetadataSchema.file, at: declared.mark)
            }
        }
        let declared = Set(metadata.artifacts.map(\.value))
        // An undeclared empty file may be deliberate (a marker file); an empty .py (__init__.py) is.
        for (path, size) in artifacts.sorted(by: { $0.key < $1.key })
        where size == 0 && !declared.contains(path) && !path.hasSuffix(".py") {
            collector.add(
                Diagnostic(
                    .artifactEmpty, "artifact '\(path)' is an empty file", file: path,
                    hint: "an empty artifact is usually a failed download or export", severity: .warning))
        }
        if artifacts.isEmpty {
            collector.add(
                Diagnostic(
                    .noArtifacts, "the model has no artifacts (only the three required files)",
                    file: ModelDirectory.metadataFile))
        }
    }
}
