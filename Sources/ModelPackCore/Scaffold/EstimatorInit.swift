import Foundation

/// The three files for a pickled scikit-learn, XGBoost or LightGBM estimator (a Pipeline or a bare model,
/// saved by joblib or pickle), from what its state declares (`EstimatorFacts`):
/// - fitted on a DataFrame: one input per column, categorical where an encoder learned the
///   categories, else float, and predict() builds a DataFrame with the columns in order;
/// - fitted on a matrix with encoded columns: one input per column (`x0`, `x1`...), passed as an
///   object matrix;
/// - fitted on a numeric matrix: one `features` tensor of the width it was fitted on.
/// A classifier answers its class (categorical when the classes are strings), a regressor a float.
enum EstimatorInit {
    /// Whether init can say how the estimator is called: it knows its columns or their number.
    static func supports(_ facts: EstimatorFacts) -> Bool {
        facts.featureNames != nil || facts.featureCount != nil
    }

    /// The framework metadata names: that of the estimator that predicts.
    static func framework(_ facts: EstimatorFacts) -> String {
        switch facts.estimator.split(separator: ".").first {
        case "lightgbm": return "lightgbm"
        case "xgboost": return "xgboost"
        default: return "scikit-learn"
        }
    }

    /// The framework first, then every distribution the pickle imports from (the standard library
    /// aside), joblib to load a joblib file, pandas to build a DataFrame, numpy, and scikit-learn
    /// for the LightGBM and XGBoost wrappers built on it.
    static func distributions(_ audit: ArtifactAudit) -> [String] {
        guard let facts = audit.pickle?.estimator else { return [] }
        var names = [framework(facts)]
        func add(_ name: String) { if !names.contains(name) { names.append(name) } }
        for i in audit.pickle?.distinctImports ?? [] {
            let top = String(i.module.split(separator: ".").first ?? "")
            guard !top.isEmpty, top != "__main__", !PythonStandardLibrary.contains(top) else { continue }
            add(ImportCoverage.distributions[top] ?? top)
            if i.module.hasSuffix(".sklearn") { add("scikit-learn") }
        }
        if audit.format == .joblib { add("joblib") }
        if facts.featureNames != nil { add("pandas") }
        add("numpy")
        return names
    }

    /// How rows reach the estimator, and the inputs metadata declares for them.
    enum Columns {
        case frame([String])
        case matrix([String])
        case tensor(Int)
    }

    static func files(
        _ facts: EstimatorFacts, artifact: String, joblib: Bool, name: String, python: String, pins: [InitPlan.Pin]
    ) -> (metadata: String, interface: String) {
        let columns: Columns
        var categories = facts.categories
        if let names = facts.featureNames {
            columns = .frame(names)
        } else if let count = facts.featureCount, !facts.categories.isEmpty {
            columns = .matrix((0..<count).map { "x\($0)" })
            categories = Dictionary(uniqueKeysWithValues: facts.categories.map { ("x" + $0.key, $0.value) })
        } else {
            columns = .tensor(facts.featureCount ?? 1)
        }

        var inputs: [String] = [], example: [String] = []
        switch columns {
        case .frame(let names), .matrix(let names):
            for column in names {
                if let known = categories[column], known.allSatisfy({ Int($0) != nil }) {
                    inputs.append(InitPlan.yamlField(column, type: "int"))
                    example.append("\(InitPlan.quoted(column)): \(known[0])")
                } else if let known = categories[column] {
                    inputs.append(InitPlan.yamlField(column, type: "categorical", categories: known))
                    example.append("\(InitPlan.quoted(column)): \(InitPlan.quoted(known[0]))")
                } else {
                    inputs.append(InitPlan.yamlField(column, type: "float"))
                    example.append("\(InitPlan.quoted(column)): 0.0")
                }
            }
        case .tensor(let width):
            inputs.append(InitPlan.yamlField("features", type: "tensor", shape: [String(width)], dtype: "float64"))
            example.append(
                "\"features\": [\(Array(repeating: "0.0", count: width).joined(separator: ", "))]")
        }
        let output: String
        switch facts.classKind {
        case "string": output = InitPlan.yamlField("label", type: "categorical", categories: facts.classes)
        case "int": output = InitPlan.yamlField("label", type: "int")
        case "bool": output = InitPlan.yamlField("label", type: "bool")
        default: output = InitPlan.yamlField("prediction", type: "float")
        }
        let task =
            facts.isClassifier
            ? "task: classification\n" : facts.estimator.contains("Regress") ? "task: regression\n" : ""
        let frameworkName = framework(facts)
        let metadata = """
            \(InitPlan.header(artifact, "\(frameworkName), \(joblib ? "joblib" : "pickle")"))
            name: \(InitPlan.quoted(InitPlan.slug(name)))
            version: 0.1.0
            \(InitPlan.framework(frameworkName, pins.first))\(task)python: "\(python)"
            inputs:
            \(inputs.joined(separator: "\n"))
            outputs:
            \(output)
            # A row of zeros (and first categories), to check that the model answers: replace it with a real row.
            example:
              - {\(example.joined(separator: ", "))}
            artifacts:
              - \(InitPlan.quoted(artifact))

            """

        let names: String
        let rows: String
        var imports = joblib ? ["import joblib"] : []
        switch columns {
        case .frame(let list):
            names =
                "# The columns the model was fitted on, in order.\nCOLUMNS = [\(list.map(InitPlan.quoted).joined(separator: ", "))]\n"
            rows = "pd.DataFrame([[row[name] for name in COLUMNS] for row in rows], columns=COLUMNS)"
            imports.append("import pandas as pd")
        case .matrix(let list):
            names =
                "# The columns the model was fitted on, in order (a matrix of Python values).\nCOLUMNS = [\(list.map(InitPlan.quoted).joined(separator: ", "))]\n"
            rows = "np.array([[row[name] for name in COLUMNS] for row in rows], dtype=object)"
            imports.append("import numpy as np")
        case .tensor:
            names = ""
            rows = "np.asarray([row[\"features\"] for row in rows], dtype=np.float64)"
            imports.append("import numpy as np")
        }
        let constants = "HERE = Path(__file__).resolve().parent\n" + names
        let load =
            joblib
            ? "    return Model(joblib.load(HERE / \(InitPlan.quoted(artifact))))"
            : "    with open(HERE / \(InitPlan.quoted(artifact)), \"rb\") as f:\n        return Model(pickle.load(f))"
        let interface = """
            \"\"\"The calling contract of \(artifact), written by modelpack init: edit it freely.

            load_model() returns an object whose predict() takes a list of rows, each a dict keyed by
            the input names of metadata.yaml, and returns one item per row, converted to plain Python
            (JSON-safe): the \(facts.isClassifier ? "predicted class" : "predicted value"). To answer more, say \(facts.isClassifier ? "predict_proba's" : "an interval's")
            values, return a dict per row and list each of its keys under outputs in metadata.yaml.
            \"\"\"
            \(joblib ? "" : "import pickle\n")from pathlib import Path

            \(imports.sorted().joined(separator: "\n"))

            \(constants)

            class Model:
                def __init__(self, estimator):
                    self._estimator = estimator

                def predict(self, rows):
                    x = \(rows)
                    return self._estimator.predict(x).tolist()


            def load_model():
            \(load)

            """
        return (metadata, interface)
    }
}
