/// How a pickled model is called, read from its state as the scan rebuilt it (nothing is loaded):
/// the columns it was fitted on (scikit-learn's `feature_names_in_`, LightGBM's booster text,
/// XGBoost's serialised model), the categories its encoders learned per column, and the classes it
/// predicts. A Pipeline is read through its steps: inputs from the first, classes from the last.
package struct EstimatorFacts: Codable, Equatable, Sendable {
    /// The class the pickle loads, e.g. `sklearn.pipeline.Pipeline`.
    package var model: String
    /// The estimator that predicts (a Pipeline's last step, else the model itself).
    package var estimator: String
    /// The columns, in order, when it was fitted on a DataFrame.
    package var featureNames: [String]?
    /// How many values a row has (`n_features_in_`), when the state says.
    package var featureCount: Int?
    /// The categories a one-hot or ordinal encoder learned, by column name.
    package var categories: [String: [String]] = [:]
    /// The labels a classifier predicts, as text, and their kind: string, int or bool.
    package var classes: [String]?
    package var classKind: String?
    /// The model names more columns than the scan kept (`featureCount` of them).
    package var namesIncomplete = false
    /// Why init cannot write the inputs, when it cannot: columns of pandas' category dtype, which
    /// LightGBM and XGBoost take as such (a row's plain values would not match them).
    package var unsupported: String?

    init?(_ root: PickleValue) {
        guard let model = root.className,
            root.state?["_sklearn_version"] != nil || Self.isLightGBM(root) || Self.xgboost(root) != nil
        else {
            return nil
        }
        self.model = model
        let steps = Self.steps(root)
        guard let first = steps.first, let last = steps.last else { return nil }
        estimator = last.className ?? model
        featureNames = Self.featureNames(first)
        featureCount =
            (first.state?["n_features_in_"]?.int ?? first.state?["_n_features_in"]?.int).map(Int.init)
            ?? featureNames?.count ?? Self.xgboost(first)?.featureCount
        // A width no model is fitted on is a corrupt (or hostile) state: nothing to build inputs from.
        if let count = featureCount, !(1...Self.maxColumns).contains(count) { featureCount = nil }
        if let booster = Self.xgboost(first), booster.featureTypes.contains("c") {
            unsupported = "XGBoost fitted with categorical columns (enable_categorical)"
        } else if Self.isLightGBM(first),
            let categorical = first.state?["_Booster"]?.state?["pandas_categorical"]?.items,
            !categorical.isEmpty
        {
            unsupported = "LightGBM fitted on pandas category columns (its pandas_categorical)"
        }
        // Names the scan kept fewer of than the model has (containers keep PickleValue.keep items).
        if let names = featureNames, let count = featureCount, names.count != count {
            namesIncomplete = true
            featureNames = nil
        }
        if let columns = featureNames ?? featureCount.map({ (0..<$0).map(String.init) }) {
            Self.encoders(first, columns: columns, into: &categories)
        }
        if let booster = Self.xgboost(last), let n = last.state?["n_classes_"]?.int,
            (1...Int64(Self.maxColumns)).contains(n),
            booster.objective?.hasPrefix("reg:") != true
        {
            // XGBClassifier predicts the label codes it was fitted with, 0 to n_classes_ - 1.
            (classes, classKind) = ((0..<n).map(String.init), "int")
        } else if let labels = last.state?["classes_"]?.items ?? last.state?["_classes"]?.items {
            let strings = labels.compactMap(\.string)
            if strings.count == labels.count {
                (classes, classKind) = (strings, "string")
            } else if labels.allSatisfy({
                if case .bool = $0 { return true }; return false
            }) {
                (classes, classKind) = (labels.compactMap(\.int).map { $0 != 0 ? "true" : "false" }, "bool")
            } else if labels.allSatisfy({ $0.int != nil }) {
                (classes, classKind) = (labels.compactMap(\.int).map(String.init), "int")
            }
        }
    }

    /// The most columns (and label codes) init builds inputs for.
    static let maxColumns = 100_000

    /// Whether the model is a classifier (it keeps the classes it was fitted on).
    package var isClassifier: Bool { classes != nil }

    static func isLightGBM(_ value: PickleValue) -> Bool { value.className?.hasPrefix("lightgbm.") == true }

    /// The serialised model of XGBoost's scikit-learn wrapper (`_Booster`'s `handle`).
    static func xgboost(_ value: PickleValue) -> XGBoostModel? {
        guard value.className?.hasPrefix("xgboost.") == true,
            let head = value.state?["_Booster"]?.state?["handle"]?.bytesHead
        else { return nil }
        return XGBoostModel(head)
    }

    /// A Pipeline's fitted steps (not "passthrough" ones), else the value itself.
    static func steps(_ value: PickleValue) -> [PickleValue] {
        guard value.className == "sklearn.pipeline.Pipeline", let steps = value.state?["steps"]?.items else {
            return [value]
        }
        let estimators = steps.compactMap { step -> PickleValue? in
            guard let pair = step.items, pair.count == 2, pair[1].className != nil else { return nil }
            return pair[1]
        }
        return estimators.flatMap(Self.steps)
    }

    /// The column names an estimator was fitted with: `feature_names_in_`, or the names LightGBM's
    /// booster keeps in its model text (`feature_names=...`) when it was fitted on a DataFrame.
    static func featureNames(_ value: PickleValue) -> [String]? {
        if let names = value.state?["feature_names_in_"]?.strings { return names }
        if let booster = xgboost(value) { return booster.featureNames.isEmpty ? nil : booster.featureNames }
        guard isLightGBM(value), value.state?["_fitted_with_feature_names"]?.int == 1,
            let text = value.state?["_Booster"]?.state?["_handle"]?.string
        else { return nil }
        for line in text.split(separator: "\n", maxSplits: 64) where line.hasPrefix("feature_names=") {
            return line.dropFirst("feature_names=".count).split(separator: " ").map(String.init)
        }
        return nil
    }

    /// The categories of the encoders applied to `columns`: through a ColumnTransformer's fitted
    /// transformers (columns by name or by position), a Pipeline's steps, and a OneHotEncoder or
    /// OrdinalEncoder's `categories_` (one array per column).
    static func encoders(_ value: PickleValue, columns: [String], into found: inout [String: [String]]) {
        let name = value.className ?? ""
        if name == "sklearn.compose._column_transformer.ColumnTransformer",
            let transformers = value.state?["transformers_"]?.items
        {
            for entry in transformers {
                guard let parts = entry.items, parts.count == 3 else { continue }
                let selected: [String]
                if let names = parts[2].strings {
                    selected = names
                } else if let positions = parts[2].items?.compactMap(\.int), positions.count == parts[2].items?.count,
                    positions.allSatisfy({ $0 >= 0 && $0 < columns.count })
                {
                    selected = positions.map { columns[Int($0)] }
                } else {
                    continue
                }
                encoders(parts[1], columns: selected, into: &found)
            }
        } else if name == "sklearn.pipeline.Pipeline" {
            steps(value).forEach { encoders($0, columns: columns, into: &found) }
        } else if name.hasSuffix(".OneHotEncoder") || name.hasSuffix(".OrdinalEncoder"),
            let learned = value.state?["categories_"]?.items, learned.count == columns.count
        {
            for (column, categories) in zip(columns, learned) {
                guard let items = categories.items else { continue }
                let text = items.compactMap { $0.string ?? $0.int.map(String.init) }
                if text.count == items.count, !text.isEmpty { found[column] = text }
            }
        }
    }
}
