import Foundation

package struct InitOptions: Sendable {
    package var directory: String
    /// The interpreter whose installed distributions pin what the artifact does not record.
    package var python: String
    package var force: Bool

    package init(directory: String, python: String = "python3", force: Bool = false) {
        self.directory = directory
        self.python = python
        self.force = force
    }
}

/// What `init` wrote, and what the author must still decide (never guessed).
package struct InitResult: Sendable {
    package let directory: String
    package let written: [String]
    package let notes: [String]
}

extension Operations {
    /// The files `init` writes, in the order it writes them.
    static let initFiles = ["requirements.txt", "metadata.yaml", "interface.py"]

    /// Writes requirements.txt, metadata.yaml and interface.py for the model in a directory, from
    /// what its artifact declares (read by the audit, never loaded) and the distributions installed
    /// in `python`. Nothing is written when a file exists without `force`, or when no artifact can
    /// be read; each file goes through a temporary file renamed into place.
    package static func initialize(_ options: InitOptions, context: RunContext) throws -> InitResult {
        let dir = options.directory
        guard let info = try FileSystem.lstatInfo(dir) else { throw ModelPackError.inputMissing(path: dir) }
        guard info.kind == .directory else {
            throw ModelPackError.invalidModel(
                path: dir, reason: "not a directory (init writes the model's files next to its artifact)")
        }
        if !options.force {
            for name in initFiles where try FileSystem.lstatInfo(dir + "/" + name) != nil {
                throw ModelPackError.destinationExists(path: dir + "/" + name)
            }
        }
        let names = try FileSystem.listDirectory(dir).filter {
            !$0.hasPrefix(".") && !initFiles.contains($0)
        }.sorted()
        var files: [String] = []
        for name in names where try FileSystem.lstatInfo(dir + "/" + name)?.kind == .regular {
            files.append(dir + "/" + name)
        }
        let audits = try scan(files, context: context).audits
        let readable = audits.filter { InitPlan.reads($0) }
        guard readable.count == 1, let artifact = readable.first else {
            let found = audits.map { "\(FileSystem.lastComponent(of: $0.path)) (\($0.format.rawValue))" }
            throw ModelPackError.invalidModel(
                path: dir,
                reason: readable.count > 1
                    ? "init writes the files for one model, found \(readable.count): "
                        + readable.map { FileSystem.lastComponent(of: $0.path) }.joined(separator: ", ")
                        + " (move the others out, or write the files by hand)"
                    : "init reads ONNX models, scikit-learn, XGBoost or LightGBM estimators saved by pickle "
                        + "or joblib, and weights (safetensors, a PyTorch state dict saved by torch.save); found "
                        + (found.isEmpty ? "no file" : found.joined(separator: ", ")))
        }
        if artifact.verdict != .safe || artifact.diagnostics.contains(where: { $0.severity == .error }) {
            throw ModelPackError.invalidModel(
                path: artifact.path,
                reason:
                    "the audit does not pass it (\(artifact.diagnostics.first?.message ?? "verdict \(artifact.verdict)")); run modelpack scan"
            )
        }
        let installed = try InstalledDistributions.query(options.python, InitPlan.distributions(artifact))
        var notes: [String] = []
        let plan = try InitPlan(
            artifact,
            name: FileSystem.lastComponent(of: URL(fileURLWithPath: dir).standardizedFileURL.path),
            installed: installed, notes: &notes)
        let texts = [plan.requirements, plan.metadata, plan.interface]
        for (name, text) in zip(initFiles, texts) {
            try FileSystem.writeAtomically(Array(text.utf8), to: dir + "/" + name)
        }
        return InitResult(directory: dir, written: initFiles, notes: notes)
    }
}
