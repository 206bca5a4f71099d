import Foundation

/// `validate --resolve`: asks pip's resolver (`pip install --dry-run --report`, nothing installed)
/// whether the model's requirements install for the Python its metadata names (else the
/// interpreter's) on the platform of the images `dockerfile` writes: Linux x86_64 with Debian 12's
/// glibc 2.36, wheels only (the slim images have no compiler). A requirement pip cannot satisfy is
/// an MP701 error at its line; an index pip cannot reach is the system's failure, not a finding.
enum Resolution {
    /// Every manylinux tag glibc 2.36 on x86_64 accepts (pip 23 does not widen one it is given).
    static let platforms =
        (17...36).reversed().map { "manylinux_2_\($0)_x86_64" } + [
            "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
        ]

    /// The finding, or nil when the requirements resolve; the context's Python runs pip.
    static func check(_ verdict: ModelVerdict, context: RunContext) throws -> Diagnostic? {
        guard let python = context.python else {
            throw ModelPackError.io(
                path: "MODELPACK_PYTHON", reason: "\(CommandFlag.resolve) needs a Python with pip, and none is set")
        }
        guard verdict.requirementTexts[ModelDirectory.requirementsFile] != nil else {
            return Diagnostic(
                .unresolvable, "requirements.txt was not read (missing, or larger than the checks read)",
                file: ModelDirectory.requirementsFile, hint: "give the model a requirements.txt")
        }
        // pip would fetch and build these to read their metadata: the author's code would run.
        // Resolving never runs it, so they are refused before pip starts.
        if let entry = verdict.requirements.entries.first(where: {
            $0.directReference != nil || $0.requirement?.url != nil
        }) {
            return Diagnostic(
                .unresolvable,
                "a requirement installed from a URL or path cannot be resolved without building it, which runs its code",
                file: entry.file, line: entry.line, column: entry.column,
                hint:
                    "require it from the package index (a name and a pinned version), or leave out \(CommandFlag.resolve)"
            )
        }
        let version = verdict.metadata.python?.value
        let target = version ?? "of \(python)"
        return try TemporaryOutput.withDirectory(nextTo: CacheDirectory.path() + "/resolve") { folder in
            // The requirements files as the model has them (includes keep their places).
            for (path, bytes) in verdict.requirementTexts {
                let file = folder + "/model/" + path
                try FileSystem.makeDirectories(FileSystem.parentDirectory(of: file))
                try FileSystem.writeAtomically(bytes, to: file)
            }
            // The model's file, then --only-binary :all: once more: an option in the model's own
            // files (--no-binary) cannot let a source distribution in, whose build would run code.
            try FileSystem.writeAtomically(
                Array("-r model/\(ModelDirectory.requirementsFile)\n--only-binary :all:\n".utf8),
                to: folder + "/resolve.txt")
            context.log("asking pip whether the requirements install for Python \(target) on Linux x86_64")
            do {
                try ServeCache.pipInstall(
                    python,
                    [
                        "--dry-run", "--quiet", "--ignore-installed", "--target", folder + "/never",
                        "--report", folder + "/report.json", "--only-binary=:all:",
                    ] + (version.map { ["--python-version", $0] } ?? []) + platforms.flatMap { ["--platform", $0] } + [
                        "-r", folder + "/resolve.txt",
                    ])
                return nil
            } catch let failure as PipFailure {
                let entry = verdict.requirements.entries.first { $0.requirement?.canonicalName == failure.name }
                return Diagnostic(
                    .unresolvable, "\(failure.requirement): \(failure.why), for Python \(target) on Linux x86_64",
                    file: entry?.file ?? ModelDirectory.requirementsFile, line: entry?.line,
                    column: entry?.column,
                    hint: "pin a version the index has for that Python (wheels only: the image has no compiler)")
            }
        }
    }
}
