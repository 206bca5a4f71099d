import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack init` on a directory holding only an artifact: the three files it writes validate
/// with 0 errors, and the model serves its example in a real server: an ONNX model, a scikit-learn
/// Pipeline fitted on a DataFrame (joblib, pickle protocols 5 and 2) and a LightGBM regressor.
@Suite(.serialized) struct InitTests {
    /// A directory holding only the wine example's model.onnx.
    static func onnxOnly(_ tmp: TempDir) throws -> String {
        try only(ValidationTests.examples.appendingPathComponent("wine-onnx/model.onnx").path, tmp, "wine")
    }

    /// A directory `name` holding only a copy of `artifact`, under its own file name.
    static func only(_ artifact: String, _ tmp: TempDir, _ name: String, as file: String? = nil) throws -> String {
        let dir = tmp.file(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: artifact, toPath: dir + "/" + (file ?? URL(fileURLWithPath: artifact).lastPathComponent))
        return dir
    }

    static let fixtures = PickleScannerTests.root.appendingPathComponent("Tests/ModelPackCoreTests/Fixtures/init")

    /// A real interpreter (a virtualenv without pip) in which exactly `installed` is installed, as
    /// importlib.metadata sees it (each distribution's METADATA), so that what init pins does not
    /// depend on this machine's Python.
    static func interpreter(_ tmp: TempDir, _ installed: [String: String]) throws -> String {
        let python = try #require(PythonCompiler.find(), "python3 is needed")
        let venv = try CLI.run(["-m", "venv", "--without-pip", tmp.file("venv")], executable: python)
        try #require(venv.status == 0, "\(venv.stderr)")
        let lib = tmp.file("venv/lib")
        let site = try #require(try FileManager.default.contentsOfDirectory(atPath: lib).first) + "/site-packages"
        for (name, version) in installed {
            let info = lib + "/" + site + "/\(name.replacingOccurrences(of: "-", with: "_"))-\(version).dist-info"
            try FileManager.default.createDirectory(atPath: info, withIntermediateDirectories: true)
            try Fixture.write(
                Array("Metadata-Version: 2.1\nName: \(name)\nVersion: \(version)\n".utf8), to: info + "/METADATA")
        }
        return tmp.file("venv/bin/python")
    }

    /// The versions serve's environment installs for the estimator tests (the examples' pins;
    /// xgboost-cpu, the build without the CUDA libraries, provides xgboost).
    static let installed = [
        "scikit-learn": "1.9.1", "lightgbm": "4.7.0", "joblib": "1.6.0", "pandas": "3.1.1", "numpy": "2.4.6",
        "xgboost-cpu": "3.2.0",
    ]

    /// `init` then `validate`: 0 errors, and only what the author must supply left to warn about
    /// (`leaving`: the description, licence and authors, and for weights the forward pass).
    @discardableResult
    static func initialised(
        _ dir: String, python: String, leaving: Set<DiagnosticCode> = [.recommendedField]
    ) throws -> (notes: String, metadata: String, report: DiagnosticReport) {
        let run = try CLI.run(["init", dir, "--python", python])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        let report = try ModelCheck.check(dir, context: .test).report
        #expect(report.errorCount == 0, "\(report.text(colour: false))")
        #expect(Set(report.diagnostics.map(\.code)) == leaving, "\(report.text(colour: false))")
        return (run.stdout, try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8), report)
    }

    /// The same Pipeline (a ColumnTransformer with a OneHotEncoder and a StandardScaler, then a
    /// LogisticRegression with string classes) saved by joblib and by pickle.
    @Test(arguments: [
        ("fruit_pipeline.joblib", "joblib==1.6.0\npandas==3.1.1\n"), ("fruit_pipeline_p5.pkl", "pandas==3.1.1\n"),
        ("fruit_pipeline_p2.pkl", "pandas==3.1.1\n"),
    ])
    func aScikitLearnPipelineOnADataFrame(_ name: String, _ tail: String) throws {
        let tmp = TempDir()
        let dir = try Self.only(Self.fixtures.appendingPathComponent(name).path, tmp, "fruit")
        // scikit-learn 1.8.0 installed, 1.9.1 recorded in the pickle: the pickle's version wins, said.
        var versions = Self.installed
        versions["scikit-learn"] = "1.8.0"
        let (notes, metadata, _) = try Self.initialised(dir, python: try Self.interpreter(tmp, versions))
        #expect(notes.contains("was saved with scikit-learn 1.9.1 and Python 3."), "\(notes)")
        let requirements = try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8)
        #expect(requirements.hasSuffix("\nscikit-learn==1.9.1\nnumpy==2.4.6\n" + tail), "\(requirements)")
        for line in [
            "framework:\n  name: scikit-learn\n  version: 1.9.1\ntask: classification\n",
            #"  - {name: "colour", type: categorical, categories: ["green", "yellow", "red"]}"#,
            #"  - {name: "length_cm", type: float}"#,
            #"  - {name: "label", type: categorical, categories: ["apple", "banana", "pear"]}"#,
            #"  - {"colour": "green", "length_cm": 0.0, "weight_g": 0.0}"#,
        ] {
            #expect(metadata.contains(line), "\(line)\n\(metadata)")
        }
        let interface = try String(contentsOfFile: dir + "/interface.py", encoding: .utf8)
        #expect(interface.contains(#"COLUMNS = ["colour", "length_cm", "weight_g"]"#))
        #expect(interface.contains(name.hasSuffix(".joblib") ? "joblib.load(" : "pickle.load("))
    }

    @Test func aLightGBMRegressorOnADataFrame() throws {
        let tmp = TempDir()
        let dir = try Self.only(
            ValidationTests.examples.appendingPathComponent("diabetes-lightgbm/model.joblib").path, tmp, "diabetes")
        let (_, metadata, _) = try Self.initialised(dir, python: try Self.interpreter(tmp, Self.installed))
        #expect(metadata.contains("framework:\n  name: lightgbm\n  version: 4.7.0\ntask: regression\n"), "\(metadata)")
        #expect(
            metadata.contains(#"  - {name: "s6", type: float}"#)
                && metadata.contains(#"{name: "prediction", type: float}"#))
        let requirements = try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8)
        #expect(
            requirements.hasSuffix("\nlightgbm==4.7.0\nscikit-learn==1.9.1\npandas==3.1.1\nnumpy==2.4.6\n"),
            "\(requirements)")
    }

    /// XGBClassifier on the iris DataFrame: the columns from its serialised booster, the classes
    /// its label codes, xgboost pinned to the version the booster records under the name installed.
    @Test func anXGBoostClassifierOnADataFrame() throws {
        let tmp = TempDir()
        let dir = try Self.only(Self.fixtures.appendingPathComponent("iris_xgboost.joblib").path, tmp, "iris")
        let (_, metadata, _) = try Self.initialised(dir, python: try Self.interpreter(tmp, Self.installed))
        for line in [
            "framework:\n  name: xgboost\n  version: 3.2.0\ntask: classification\n",
            #"  - {name: "sepal length (cm)", type: float}"#, #"  - {name: "label", type: int}"#,
        ] {
            #expect(metadata.contains(line), "\(line)\n\(metadata)")
        }
        let requirements = try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8)
        #expect(requirements.contains("\nxgboost-cpu==3.2.0\nscikit-learn==1.9.1\n"), "\(requirements)")
    }

    /// Fitted on a matrix, a model has a width and no names: one tensor, or one input per column
    /// when an encoder learned categories for some.
    @Test func estimatorsFittedOnAMatrix() throws {
        let tmp = TempDir()
        let python = try Self.interpreter(tmp, Self.installed)
        let benign = PickleCorpusTests.dir.appendingPathComponent("benign")
        let forest = try Self.only(benign.appendingPathComponent("random_forest.joblib").path, tmp, "forest")
        let (_, tensor, _) = try Self.initialised(forest, python: python)
        #expect(tensor.contains(#"  - {name: "features", type: tensor, shape: [4], dtype: float64}"#), "\(tensor)")
        #expect(tensor.contains(#"  - {name: "label", type: int}"#), "\(tensor)")
        let xgboost = try Self.only(benign.appendingPathComponent("xgboost_classifier.joblib").path, tmp, "xgb")
        let (_, width, _) = try Self.initialised(xgboost, python: python)
        #expect(width.contains(#"  - {name: "features", type: tensor, shape: [4], dtype: float64}"#), "\(width)")
        let mixed = try Self.only(
            benign.appendingPathComponent("pipeline_onehot_scaler_logreg.joblib").path, tmp, "mixed")
        let (_, columns, _) = try Self.initialised(mixed, python: python)
        #expect(columns.contains(#"  - {name: "x0", type: categorical, categories: ["a", "b", "c"]}"#), "\(columns)")
        #expect(columns.contains(#"  - {name: "x2", type: float}"#), "\(columns)")
    }

    /// Every file of a directory with its bytes.
    static func snapshot(_ dir: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
        }
        return files
    }

    @Test func anONNXModelGetsFilesThatValidateAndAreNeverReplacedSilently() throws {
        let tmp = TempDir()
        let dir = try Self.onnxOnly(tmp)
        // What the pins come from is this interpreter, not this machine's python3 (which need not
        // have onnxruntime: then it is written unpinned, and validate warns).
        let python = try Self.interpreter(tmp, ["onnxruntime": "1.32.0", "numpy": "2.4.6"])
        let run = try CLI.run(["init", dir, "--python", python])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("wrote \(dir)/metadata.yaml"))
        let report = try ModelCheck.check(dir, context: .test).report
        #expect(report.errorCount == 0, "\(report.text(colour: false))")
        // Only what the author must supply is left to warn about.
        #expect(
            Set(report.diagnostics.map(\.code)) == [.recommendedField], "\(report.text(colour: false))")
        let metadata = try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8)
        for line in [
            #"  - {name: "features", type: tensor, shape: [13], dtype: float32}"#,
            #"  - {name: "label", type: int, dtype: int64}"#,
            #"  - {name: "probabilities", type: tensor, shape: [3], dtype: float32}"#,
            "  name: onnxruntime", "# license: an SPDX identifier",
        ] {
            #expect(metadata.contains(line), "\(line)\n\(metadata)")
        }

        // A second init refuses before writing anything; --force replaces.
        let before = try Self.snapshot(dir)
        let again = try CLI.run(["init", dir, "--python", python])
        #expect(again.status != 0)
        #expect(again.stderr == "error: \(dir)/requirements.txt: already exists (use --force to replace it)\n")
        #expect(try Self.snapshot(dir) == before)
        #expect(try CLI.run(["init", dir, "--force", "--python", python]).status == 0)
        #expect(try Self.snapshot(dir) == before, "the same artifact and Python give the same files")
    }

    @Test func versionsComeFromTheNamedPython() throws {
        let tmp = TempDir()
        let dir = try Self.onnxOnly(tmp)
        // onnxruntime 1.31.0 is installed there and numpy is not.
        let run = try CLI.run(["init", dir, "--python", try Self.interpreter(tmp, ["onnxruntime": "1.31.0"])])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        let requirements = try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8)
        #expect(requirements.hasSuffix("onnxruntime==1.31.0\nnumpy\n"), "\(requirements)")
        #expect(run.stdout.contains("note: numpy is not installed in Python 3."), "\(run.stdout)")
        let metadata = try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8)
        #expect(metadata.contains("  version: 1.31.0\n"), "\(metadata)")
    }

    @Test func whatInitCannotReadIsRefusedWithNothingWritten() throws {
        let tmp = TempDir()
        try Fixture.write([0x80, 0x04, 0x4b, 0x01, 0x2e], to: tmp.file("m/model.pkl"))
        let run = try CLI.run(["init", tmp.file("m")])
        #expect(run.status != 0)
        #expect(run.stderr.hasPrefix("error: \(tmp.file("m")): "), "\(run.stderr)")
        #expect(
            run.stderr.contains("init reads ONNX models, scikit-learn, XGBoost or LightGBM estimators"),
            "\(run.stderr)")
        #expect(run.stderr.contains("model.pkl (pickle)"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.file("m")) == ["model.pkl"])
        let missing = try CLI.run(["init", tmp.file("nowhere")])
        #expect(missing.status != 0 && missing.stderr.contains("nowhere: no such file or directory"))
        // A bare XGBoost Booster (not its scikit-learn wrapper) is called through a DMatrix: refused.
        let benign = PickleCorpusTests.dir.appendingPathComponent("benign")
        let booster = try Self.only(benign.appendingPathComponent("xgboost_booster_p4.pkl").path, tmp, "booster")
        let refused = try CLI.run(["init", booster])
        #expect(refused.status != 0 && refused.stderr.contains("xgboost_booster_p4.pkl (pickle)"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: booster) == ["xgboost_booster_p4.pkl"])
        // 300 named columns, more than the scan keeps names of: refused, not cut short.
        let wide = try Self.only(Self.fixtures.appendingPathComponent("wide_linear.joblib").path, tmp, "wide")
        let cut = try CLI.run(["init", wide])
        #expect(cut.status != 0, "\(cut.stdout)")
        #expect(
            cut.stderr.contains(
                "wide_linear.joblib: it was fitted on 300 named columns and init reads the names of the first 256"),
            "\(cut.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: wide) == ["wide_linear.joblib"])
        // Category-typed columns (LightGBM's pandas_categorical, XGBoost's enable_categorical).
        for name in ["lightgbm_category.joblib", "xgboost_category.joblib"] {
            let dir = try Self.only(Self.fixtures.appendingPathComponent(name).path, tmp, name + ".d")
            let refused = try CLI.run(["init", dir])
            #expect(refused.status != 0, "\(refused.stdout)")
            #expect(refused.stderr.contains("\(name): "), "\(refused.stderr)")
            #expect(refused.stderr.contains("init does not write category-typed inputs yet"), "\(refused.stderr)")
        }
        // A --python that does not exist, by path or by name: one line naming it, nothing written.
        for python in [tmp.file("no/python3"), "python-modelpack-none"] {
            let onnx = try Self.only(
                ValidationTests.examples.appendingPathComponent("wine-onnx/model.onnx").path, tmp,
                "no-python-" + String(python.count))
            let missingPython = try CLI.run(["init", onnx, "--python", python])
            #expect(missingPython.status != 0)
            #expect(
                missingPython.stderr
                    == "error: \(python): no such Python (give --python a path or a name on PATH)\n",
                "\(missingPython.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: onnx) == ["model.onnx"])
        }
        // Two models: init does not choose.
        let two = try Self.onnxOnly(tmp)
        try FileManager.default.copyItem(
            atPath: benign.appendingPathComponent("random_forest.joblib").path, toPath: two + "/forest.joblib")
        let both = try CLI.run(["init", two])
        #expect(both.status != 0, "\(both.stdout)")
        #expect(
            both.stderr.contains("init writes the files for one model, found 2: forest.joblib, model.onnx"),
            "\(both.stderr)")
    }

    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func theInitialisedModelServesItsExampleAndRealRows() throws {
        let tmp = TempDir()
        let dir = try Self.onnxOnly(tmp)
        // Pinned as Examples/wine-onnx is, whatever this machine's python3 has installed.
        let python = try Self.interpreter(tmp, ["onnxruntime": "1.32.0", "numpy": "2.4.6"])
        let run = try CLI.run(["init", dir, "--python", python])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        let tested = try CLI.run(["test", dir])
        #expect(tested.status == 0 && tested.stdout.contains("passed"), "\(tested.stdout) \(tested.stderr)")
        try ExampleServeTests.serving(dir) { base in
            // The wine data's first row is cultivar 0 (as Examples/wine-onnx answers).
            let row = #"{"features": [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065]}"#
            let answer = try ServeTests.curl(
                ["-H", "content-type: application/json", "-X", "POST", "-d", row, base + "/predict"])
            try #require(answer.status == 200, "\(answer.status) \(answer.body)")
            let prediction = try #require(
                (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["prediction"]
                    as? [String: Any], "\(answer.body)")
            #expect(prediction["label"] as? Int == 0, "\(answer.body)")
            let p = try #require(prediction["probabilities"] as? [Double], "\(answer.body)")
            #expect(p.count == 3 && abs(p[0] - 0.9995) < 1e-4, "\(answer.body)")
        }
    }

    /// The Pipeline fitted on a DataFrame, the XGBoost classifier and the LightGBM regressor,
    /// initialised, then tested and served: the server answers as the model itself does
    /// (make_init.py's expected.json; the LightGBM example's example_outputs).
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(15)))
    func theInitialisedEstimatorsServeWhatTheModelsPredict() throws {
        let tmp = TempDir()
        let python = try Self.interpreter(tmp, Self.installed)
        let fruit = try Self.only(Self.fixtures.appendingPathComponent("fruit_pipeline.joblib").path, tmp, "fruit")
        try Self.initialised(fruit, python: python)
        let tested = try CLI.run(["test", fruit])
        #expect(tested.status == 0 && tested.stdout.contains("passed"), "\(tested.stdout) \(tested.stderr)")
        let expected = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json")))
                as? [String: [String: [Any]]])
        let iris = try Self.only(Self.fixtures.appendingPathComponent("iris_xgboost.joblib").path, tmp, "iris")
        try Self.initialised(iris, python: python)
        for (name, dir) in [("fruit", fruit), ("iris", iris)] {
            try ExampleServeTests.serving(dir) { base in
                try ExampleServeTests.answersItsExamples(
                    base, rows: try #require(expected[name]?["rows"]),
                    expected: try #require(expected[name]?["predictions"]))
            }
        }

        let diabetes = try Self.only(
            ValidationTests.examples.appendingPathComponent("diabetes-lightgbm/model.joblib").path, tmp, "diabetes")
        try Self.initialised(diabetes, python: python)
        let (rows, outputs) = try ExampleServeTests.examples(
            ValidationTests.examples.appendingPathComponent("diabetes-lightgbm").path)
        try ExampleServeTests.serving(diabetes) { base in
            try ExampleServeTests.answersItsExamples(base, rows: rows, expected: outputs)
        }
    }

    /// A weights-only file: init lists its tensors and marks what the author writes; validate warns
    /// (MP306) until predict() is written. Then, the author's forward pass and inputs written in
    /// (those of Examples/digits-safetensors), the warning is gone and the model serves its example.
    @Test(.timeLimit(.minutes(10)))
    func safetensorsWeightsLeaveTheForwardPassToTheAuthor() throws {
        let tmp = TempDir()
        let example = ValidationTests.examples.appendingPathComponent("digits-safetensors")
        let dir = try Self.only(example.appendingPathComponent("model.safetensors").path, tmp, "digits")
        let python = try Self.interpreter(tmp, ["safetensors": "0.8.0", "numpy": "2.4.6"])
        let (_, _, report) = try Self.initialised(
            dir, python: python, leaving: [.recommendedField, .interfaceUnfinished])
        let unfinished = try #require(report.diagnostics.first { $0.code == .interfaceUnfinished })
        var interface = try String(contentsOfFile: dir + "/interface.py", encoding: .utf8)
        let line = try #require(
            interface.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
                $0.contains("raise NotImplementedError(")
            })
        #expect(unfinished.file == "interface.py" && unfinished.line == line + 1, "\(unfinished)")
        #expect(interface.contains("#   bias    F32 [10]\n#   weight  F32 [64, 10]\n"), "\(interface)")
        #expect(
            try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8).hasSuffix(
                "\nsafetensors==0.8.0\nnumpy==2.4.6\n"))

        // The author's part: the forward pass, and the inputs, outputs and example it answers.
        let raise = try #require(interface.range(of: #"        raise NotImplementedError("#))
        let end = try #require(interface[raise.upperBound...].firstIndex(of: "\n"))
        interface.replaceSubrange(
            raise.lowerBound..<end,
            with: """
                        pixels = np.asarray([row["pixels"] for row in rows], dtype=np.float64).reshape(len(rows), 64) / 16.0
                        logits = pixels @ self._tensors["weight"].astype(np.float64) + self._tensors["bias"]
                        p = np.exp(logits - logits.max(axis=1, keepdims=True))
                        p /= p.sum(axis=1, keepdims=True)
                        return [{"digit": int(r.argmax()), "probability": round(float(r.max()), 4)} for r in p]
                """)
        try Fixture.write(Array(interface.utf8), to: dir + "/interface.py")
        let written = try String(contentsOfFile: example.appendingPathComponent("metadata.yaml").path, encoding: .utf8)
        let section = try #require(written.range(of: "inputs:")?.lowerBound)
        let artifacts = try #require(written.range(of: "artifacts:")?.lowerBound)
        var metadata = try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8)
        let placeholder = try #require(metadata.range(of: "inputs:")?.lowerBound)
        let after = try #require(metadata.range(of: "artifacts:")?.lowerBound)
        metadata.replaceSubrange(placeholder..<after, with: written[section..<artifacts])
        try Fixture.write(Array(metadata.utf8), to: dir + "/metadata.yaml")
        let finished = try ModelCheck.check(dir, context: .test).report
        #expect(Set(finished.diagnostics.map(\.code)) == [.recommendedField], "\(finished.text(colour: false))")
        guard ServeTests.enabled else { return }
        let (rows, outputs) = try ExampleServeTests.examples(dir)
        try ExampleServeTests.serving(dir) { base in
            try ExampleServeTests.answersItsExamples(base, rows: rows, expected: outputs)
        }
    }

    /// A PyTorch state dict (torch 2.15's torch.save, make_torch.py), bare or in a checkpoint: init
    /// lists its tensors, loads it with torch.load(weights_only=True) (from the checkpoint's key)
    /// and leaves the forward pass to write; validate warns (MP306) until it is written.
    @Test(arguments: [("torch_state_dict.pt", nil), ("torch_checkpoint.pt", "state_dict")] as [(String, String?)])
    func aPyTorchStateDictLeavesTheForwardPassToTheAuthor(_ name: String, _ key: String?) throws {
        let tmp = TempDir()
        let dir = try Self.only(Self.fixtures.appendingPathComponent(name).path, tmp, "net", as: "model.pt")
        let python = try Self.interpreter(tmp, ["torch": "2.15.0", "numpy": "2.4.6"])
        let metadata = try Self.initialised(dir, python: python, leaving: [.recommendedField, .interfaceUnfinished])
            .metadata
        let interface = try String(contentsOfFile: dir + "/interface.py", encoding: .utf8)
        let listing = "#   0.weight  float32 [8, 4]\n#   0.bias    float32 [8]\n#   2.weight  float32 [3, 8]\n"
        #expect(interface.contains(listing), "\(interface)")
        #expect(
            interface.contains(
                #"torch.load(HERE / "model.pt", map_location="cpu", weights_only=True)"#
                    + (key.map { #"["\#($0)"]"# } ?? "") + ")\n"), "\(interface)")
        #expect(metadata.contains("framework:\n  name: pytorch\n  version: 2.15.0\n"), "\(metadata)")
        #expect(
            try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8).hasSuffix(
                "\ntorch==2.15.0\nnumpy==2.4.6\n"))
    }
}
