import Foundation
import Testing

@testable import ModelPackCore

/// metadata.yaml held to what its artifacts record (MP114), on models the libraries wrote: the
/// fruit Pipeline (fitted on a DataFrame: columns, an encoder's categories, string classes), the
/// churn example (fitted on a matrix: categories by position) and the wine example's ONNX graph.
/// Each edit below passed validate before (a KeyError or a 500 in `test` found it).
@Suite struct ArtifactFactsTests {
    /// A copy of `source` with `edit` applied to its metadata.yaml.
    static func edited(_ source: String, _ tmp: TempDir, _ name: String, _ edit: (String) -> String) throws -> String {
        let copy = tmp.file(name)
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        let path = copy + "/metadata.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let changed = edit(text)
        #expect(changed != text, "the edit of \(name) changed nothing")
        try Fixture.write(Array(changed.utf8), to: path)
        return copy
    }

    /// The fruit Pipeline with the files init writes for it (which validate cleanly of MP114).
    static func fruit(_ tmp: TempDir) throws -> String {
        let dir = try InitTests.only(DiagnosticCodeTests.fruit, tmp, "fruit")
        let python = try InitTests.interpreter(
            tmp, ["scikit-learn": "1.9.1", "numpy": "2.4.6", "pandas": "3.1.1", "joblib": "1.6.0"])
        let run = try CLI.run(["init", dir, "--python", python])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        return dir
    }

    static func mismatches(_ model: String) throws -> [String] {
        let report = try ModelCheck.check(model, context: .test).report
        return report.diagnostics.filter { $0.code == .artifactMismatch }.map {
            "\($0.file):\($0.line ?? 0): \($0.message)"
        }
    }

    @Test func columnsCategoriesAndClassesAreTheArtifacts() throws {
        let tmp = TempDir()
        let fruit = try Self.fruit(tmp)
        #expect(try Self.mismatches(fruit).isEmpty)
        let cases: [(String, (String) -> String, String)] = [
            (
                "renamed", { $0.replacingOccurrences(of: "\"length_cm\"", with: "\"length\"") },
                "input 'length' is not a column fruit_pipeline.joblib was fitted on, and no input is 'length_cm', which it was"
            ),
            (
                "category",
                {
                    $0.replacingOccurrences(
                        of: "[\"green\", \"yellow\", \"red\"]", with: "[\"green\", \"yellow\", \"red\", \"blue\"]")
                },
                "input 'colour' lists 'blue', which the encoder in fruit_pipeline.joblib never learned (it knows 'green', 'yellow', 'red')"
            ),
            (
                "class",
                {
                    $0.replacingOccurrences(
                        of: "[\"apple\", \"banana\", \"pear\"]", with: "[\"apple\", \"banana\", \"kiwi\"]")
                },
                "output 'label' lists 'kiwi', which fruit_pipeline.joblib never predicts, and does not list 'pear', which it predicts"
            ),
        ]
        for (name, edit, message) in cases {
            let found = try Self.mismatches(try Self.edited(fruit, tmp, name, edit))
            #expect(found.count == 1 && found[0].contains(message), "\(name): \(found)")
            #expect(found.first?.hasPrefix("metadata.yaml:") == true, "\(name): \(found)")
        }
        // Positional: the churn example's encoder learned internet_service as its third column.
        let churn = try Self.edited(
            ValidationTests.examples.appendingPathComponent("churn-sklearn").path, tmp, "churn"
        ) { $0.replacingOccurrences(of: "[none, dsl, fiber]", with: "[none, dsl, fiber, satellite]") }
        let positional = try Self.mismatches(churn)
        #expect(
            positional.count == 1 && positional[0].contains("input 'internet_service' lists 'satellite'"),
            "\(positional)")
        // validate says so, exit 1, naming both places.
        let run = try CLI.run(["validate", churn])
        #expect(
            run.status == ExitStatus.problems && run.stdout.contains("error[MP114]")
                && run.stdout.contains("model.joblib"))
    }

    @Test func anONNXGraphsInputsAreItsOwn() throws {
        let tmp = TempDir()
        let wine = ValidationTests.examples.appendingPathComponent("wine-onnx").path
        #expect(try Self.mismatches(wine).isEmpty)
        let cases: [(String, (String) -> String, String)] = [
            (
                "name", { $0.replacingOccurrences(of: "name: features", with: "name: feature") },
                "input 'feature' is not an input of model.onnx (it takes features: float32[?,13])"
            ),
            (
                "shape", { $0.replacingOccurrences(of: "shape: [13]", with: "shape: [12]") },
                "input 'features' has shape [12], but model.onnx takes features: float32[?,13]"
            ),
            (
                "dtype", { $0.replacingOccurrences(of: "dtype: float32", with: "dtype: float64") },
                "input 'features' is float64, but model.onnx takes features: float32[?,13]"
            ),
        ]
        for (name, edit, message) in cases {
            let found = try Self.mismatches(try Self.edited(wine, tmp, name, edit))
            #expect(found.contains { $0.contains(message) }, "\(name): \(found)")
        }
    }

    /// Imports are followed from interface.py through the modules the model ships: features.py
    /// importing torch (which requirements.txt lacks) is MP507 at its line, in a directory and in
    /// its bundle; a module nothing imports (train.py) is not held to the requirements.
    @Test func importsAreFollowedThroughShippedModules() throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("m"),
            extra: [
                "interface.py": Array(("from features import prepare\n\n" + Fixture.interface).utf8),
                "features.py": Array(
                    "import torch\nfrom helpers.text import clean\n\ndef prepare(x):\n    return x\n".utf8),
                "helpers/__init__.py": [],
                "helpers/text.py": Array("import spacy\n\ndef clean(x):\n    return x\n".utf8),
                "train.py": Array("import xgboost\n".utf8),
            ])
        let bundle = tmp.file("m.tar")
        do {
            let report = try ModelCheck.check(tmp.file("m"), context: .test).report
            let found = report.diagnostics.filter { $0.code == .importWithoutRequirement }.map {
                "\($0.file):\($0.line ?? 0): \($0.message)"
            }
            #expect(
                found == [
                    "features.py:1: features.py imports torch, but no requirement provides 'torch' (torch)",
                    "helpers/text.py:1: helpers/text.py imports spacy, but no requirement provides 'spacy' and no module of that name is in the bundle",
                ], "\(found)")
        }
        #expect(try CLI.run(["build", tmp.file("m"), "-o", bundle]).status == 1, "build refuses it")
        try Fixture.write(
            Array("scikit-learn==1.9.1\ntorch==2.9.1\nspacy==3.8.7\n".utf8), to: tmp.file("m/requirements.txt"))
        #expect(try CLI.run(["build", tmp.file("m"), "-o", bundle]).status == 0)
        let fromBundle = try ModelCheck.check(bundle, context: .test).report
        #expect(
            !fromBundle.diagnostics.contains { $0.code == .importWithoutRequirement },
            "\(fromBundle.text(colour: false))")
    }
}
