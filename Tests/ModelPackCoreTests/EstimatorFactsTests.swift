import Foundation
import Testing

@testable import ModelPackCore

/// What `init` reads from a pickled model without loading it: the columns, the categories its
/// encoders learned, the classes. The references are the libraries' own attributes, recorded by the
/// fixture scripts (Fixtures/init/make_init.py, Fixtures/pickles/make_benign.py).
@Suite struct EstimatorFactsTests {
    static let initDir = PickleScannerTests.root.appendingPathComponent("Tests/ModelPackCoreTests/Fixtures/init")

    static func facts(_ path: String) throws -> EstimatorFacts? {
        try PickleScannerTests.scan(path).estimator
    }

    /// The same Pipeline saved three ways (joblib's inline arrays, pickle protocol 5's bytes,
    /// protocol 2's latin-1 strings) reads the same.
    @Test(arguments: ["fruit_pipeline.joblib", "fruit_pipeline_p5.pkl", "fruit_pipeline_p2.pkl"])
    func aPipelineFittedOnADataFrame(_ name: String) throws {
        let facts = try #require(try Self.facts(Self.initDir.appendingPathComponent(name).path))
        #expect(facts.model == "sklearn.pipeline.Pipeline")
        #expect(facts.estimator == "sklearn.linear_model._logistic.LogisticRegression")
        #expect(facts.featureNames == ["colour", "length_cm", "weight_g"])
        #expect(facts.featureCount == 3)
        #expect(facts.categories == ["colour": ["green", "yellow", "red"]])
        #expect(facts.classes == ["apple", "banana", "pear"] && facts.classKind == "string")
    }

    @Test func otherEstimators() throws {
        let benign = PickleCorpusTests.dir.appendingPathComponent("benign")
        // Fitted on a numpy matrix: a count, no names; integer classes from a small joblib array.
        let forest = try #require(try Self.facts(benign.appendingPathComponent("random_forest.joblib").path))
        #expect(forest.featureNames == nil && forest.featureCount == 4)
        #expect(forest.classes == ["0", "1", "2"] && forest.classKind == "int")
        let p2 = try #require(try Self.facts(benign.appendingPathComponent("random_forest_p2.pkl").path))
        #expect(p2 == forest)
        // Positional columns in a ColumnTransformer map to column numbers.
        let positional = try #require(
            try Self.facts(benign.appendingPathComponent("pipeline_onehot_scaler_logreg.joblib").path))
        #expect(positional.featureNames == nil && positional.featureCount == 3)
        #expect(positional.categories == ["0": ["a", "b", "c"]])
        // A regressor keeps no classes.
        let linear = try #require(try Self.facts(benign.appendingPathComponent("linear_regression_p0.pkl").path))
        #expect(linear.classes == nil && linear.featureCount == 4)
        // LightGBM's scikit-learn wrapper: names from the booster's model text.
        let lgbm = try #require(
            try Self.facts(
                PickleScannerTests.root.appendingPathComponent("Examples/diabetes-lightgbm/model.joblib").path))
        #expect(lgbm.estimator == "lightgbm.sklearn.LGBMRegressor")
        #expect(lgbm.featureNames == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"])
        #expect(lgbm.classes == nil)
        let lgbmClassifier = try #require(
            try Self.facts(benign.appendingPathComponent("lightgbm_classifier.joblib").path))
        #expect(lgbmClassifier.featureCount == 4 && lgbmClassifier.classes == ["0", "1", "2"])
        // XGBoost's wrapper: names (when fitted on a DataFrame) and width from the serialised booster,
        // classes from n_classes_.
        let iris = try #require(try Self.facts(Self.initDir.appendingPathComponent("iris_xgboost.joblib").path))
        #expect(iris.estimator == "xgboost.sklearn.XGBClassifier")
        #expect(iris.featureNames?.first == "sepal length (cm)" && iris.featureCount == 4)
        #expect(iris.classes == ["0", "1", "2"] && iris.classKind == "int")
        let xgb = try #require(try Self.facts(benign.appendingPathComponent("xgboost_classifier.joblib").path))
        #expect(xgb.featureNames == nil && xgb.featureCount == 4 && xgb.classes?.count == 3)
        // Not an estimator: nothing.
        #expect(try Self.facts(benign.appendingPathComponent("dict_of_arrays_p4.pkl").path) == nil)
    }

    @Test func smallArraysDecode() {
        #expect(
            PickleScanner.elements([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], dtype: "<i4", count: 2)?.map(\.int) == [1, -1])
        let text = PickleScanner.elements(
            [0x61, 0, 0, 0, 0xe9, 0, 0, 0, 0x62, 0, 0, 0, 0, 0, 0, 0], dtype: "<U2", count: 2)
        #expect(text?.map(\.string) == ["a\u{e9}", "b"])
        #expect(PickleScanner.elements([0, 1], dtype: ">i2", count: 1) == nil, "big-endian is not read")
        #expect(PickleScanner.elements([0, 0, 0, 0], dtype: "<f4", count: 1) == nil, "floats are not read")
        #expect(PickleScanner.elements([1, 0], dtype: "<i4", count: 1) == nil, "the size must match")
    }
}

extension EstimatorFactsTests {
    /// The loader's memo holds the object itself: a list memoized empty and filled afterwards, or
    /// an object BUILT after MEMOIZE, is complete when a later GET fetches it (how scikit-learn's
    /// ColumnTransformer shares its column lists between `transformers` and `transformers_`).
    @Test func theMemoSeesContainersFilledAfterTheyWereStored() throws {
        let string = { (s: String) -> [UInt8] in [0x8c, UInt8(s.utf8.count)] + Array(s.utf8) }
        // [[], GET 0] where the first list gets 'a', 'b' after MEMOIZE; the root is the outer list.
        let pickle: [UInt8] =
            [0x80, 4, 0x5d, 0x94]  // EMPTY_LIST (outer), MEMOIZE 0
            + [0x5d, 0x94, 0x28] + string("a") + string("b") + [0x65]  // EMPTY_LIST, MEMOIZE 1, MARK, APPENDS
            + [0x61, 0x68, 1, 0x61, 0x2e]  // APPEND it, BINGET 1, APPEND, STOP
        var scanner = PickleScanner(reader: ByteReader(bytes: pickle), limits: PickleLimits())
        let root = try #require(try scanner.scanOneForNesting())
        let inner = try #require(root.items)
        #expect(inner.count == 2)
        #expect(inner.map { $0.strings ?? [] } == [["a", "b"], ["a", "b"]])
        // A key PUT again for something else is not overwritten by the first value's update.
        let reused: [UInt8] =
            [0x80, 4, 0x5d, 0x71, 0]  // EMPTY_LIST, BINPUT 0
            + [0x5d, 0x71, 0]  // another EMPTY_LIST, BINPUT 0 again (it now holds the second list)
            + [0x30] + string("x") + [0x61]  // POP it; APPEND 'x' to the first list
            + [0x30, 0x68, 0, 0x2e]  // POP, BINGET 0, STOP: the second (empty) list
        var second = PickleScanner(reader: ByteReader(bytes: reused), limits: PickleLimits())
        #expect(try second.scanOneForNesting()?.items?.count == 0)
        // The memo follows the first `memoUpdates` fillings only (a dataset of many small
        // containers would otherwise be kept whole): past them, a GET sees the list as stored.
        // EMPTY_LIST, MEMOIZE, MARK, 'a', APPENDS, POP
        let filled: [UInt8] = [0x5d, 0x94, 0x28] + string("a") + [0x65, 0x30]
        let many: [UInt8] =
            [0x80, 4] + Array([[UInt8]](repeating: filled, count: PickleScanner.memoUpdates + 1).joined())
            + [0x6a] + withUnsafeBytes(of: UInt32(PickleScanner.memoUpdates).littleEndian, Array.init) + [0x2e]
        var bounded = PickleScanner(reader: ByteReader(bytes: many), limits: PickleLimits())
        #expect(try bounded.scanOneForNesting()?.items?.count == 0, "the last list's filling is past the bound")
    }
}

extension EstimatorFactsTests {
    /// XGBoost's serialised model read from its head: whole, it gives the columns, width, classes
    /// and objective; cut anywhere (a hostile or truncated payload), it gives less, never a crash.
    @Test func xgboostsHeadIsReadWithinItsBounds() throws {
        let file = try Fixture.read(Self.initDir.appendingPathComponent("iris_xgboost.joblib").path)
        let start = try #require(
            (0..<(file.count - XGBoostModel.signature.count)).first {
                file[$0..<($0 + XGBoostModel.signature.count)].elementsEqual(XGBoostModel.signature)
            })
        let head = Array(file[start..<min(file.count, start + 4096)])
        let model = try #require(XGBoostModel(head))
        #expect(model.featureNames.count == 4 && model.featureNames.last == "petal width (cm)")
        #expect(model.featureCount == 4 && model.classCount == 3 && model.objective == "multi:softprob")
        for cut in 0..<head.count {
            if let partial = XGBoostModel(Array(head.prefix(cut))) {
                #expect(partial.featureNames.isEmpty || partial.featureNames == model.featureNames)
            }
        }
        var hostile = head
        if let at = XGBoostModel.key("feature_names", in: hostile, from: 0) {
            hostile.replaceSubrange((at + 3)..<(at + 11), with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        }
        #expect(XGBoostModel(hostile)?.featureNames == [], "an impossible count reads as no names")
    }
}

extension EstimatorFactsTests {
    /// torch.save's state dict (an OrderedDict of _rebuild_tensor_v2 calls on persistent storages)
    /// read statically: names in order, shapes, dtypes from the storage types; a checkpoint's
    /// state dict under its key.
    @Test(arguments: [("torch_state_dict.pt", nil), ("torch_checkpoint.pt", "state_dict")] as [(String, String?)])
    func aPyTorchStateDict(_ name: String, _ key: String?) throws {
        let path = Self.initDir.appendingPathComponent(name).path
        let audits = try Operations.scan([path], context: .test).audits
        let weights = try #require(audits.first?.weights, "\(audits.first?.format as Any)")
        #expect(weights.within == key)
        #expect(weights.tensors.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(weights.tensors.map(\.shape) == [[8, 4], [8], [3, 8], [3]])
        #expect(weights.tensors.allSatisfy { $0.dtype == "float32" })
        #expect(audits.first?.verdict == .safe)
    }
}

extension EstimatorFactsTests {
    /// What a hostile state claims is bounded before anything is built from it: a width of 2^40
    /// columns, 2^40 label codes, a shape whose element count overflows, an ONNX input of 10^12
    /// values (init then writes no example row, and says so).
    @Test func hostileSizesAreRefusedNotAllocated() throws {
        let state = { (pairs: [(String, PickleValue)]) -> PickleValue in
            .dict([(.string("_sklearn_version"), .string("1.9.1"))] + pairs.map { (.string($0.0), $0.1) })
        }
        let linear = PickleValue.object(
            callee: .global(module: "sklearn.linear_model._base", name: "LinearRegression"), args: .tuple([]),
            state: state([("n_features_in_", .int(1 << 40))]))
        #expect(EstimatorFacts(linear)?.featureCount == nil)
        let overflowing = PickleValue.object(
            callee: .global(module: "numpy._core.numeric", name: "_frombuffer"),
            args: .tuple([
                .bytes(8, head: [], tail: [1, 0, 0, 0, 0, 0, 0, 0]),
                .object(callee: .global(module: "numpy", name: "dtype"), args: .tuple([.string("i8")]), state: nil),
                .tuple([.int(Int64.max), .int(4)]), .string("C"),
            ]), state: nil)
        #expect(overflowing.items == nil)
        var notes: [String] = []
        let graph = ONNXGraph(
            inputs: [ONNXValue(name: "x", type: "float32", dims: ["N", "1000000", "1000000"])],
            outputs: [ONNXValue(name: "y", type: "float32", dims: ["N", "1"])])
        let (metadata, _) = try ONNXInit.files(
            graph, artifact: "model.onnx", name: "big", python: "3.11", pins: [], notes: &notes)
        #expect(!metadata.contains("example:"), "\(metadata)")
        #expect(notes.contains { $0.contains("has no example row") }, "\(notes)")
    }
}
