/// The reviewed allowlist of what a pickle may import: the reconstruction functions and data
/// classes numpy, scipy, scikit-learn, pandas, xgboost, lightgbm, torch, joblib and the standard
/// library really pickle. `ImportPolicy` calls an import safe only when it is here; anything else
/// that a pickle calls or instantiates is an error (MP516), and anything it only refers to is for
/// review (MP502). Each group says why loading its entries runs nothing but the object's own
/// reconstruction. Found by saving real models with the libraries themselves
/// (Tests/ModelPackCoreTests/Fixtures/pickles/make_benign.py), never by guessing; widen it only
/// with a benign fixture that needs the entry, and a reason.
enum PickleAllowlist {
    struct Group {
        let why: String
        let names: [String]
    }

    /// Exact `module.name` globals.
    static let groups: [Group] = [
        Group(
            why: "Python's own containers and scalars: constructing one runs no code of the pickle's choosing",
            names: [
                "collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
                "builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.complex", "builtins.slice",
                "builtins.range", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.int",
                "builtins.float", "builtins.bool", "builtins.str", "builtins.bytes", "builtins.object",
                "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
                "decimal.Decimal", "fractions.Fraction",
            ]),
        Group(
            why:
                "how protocols 0 to 2 rebuild an instance (object.__new__ of a class the pickle names, which is judged itself) and bytes (latin-1 text to bytes)",
            names: ["copyreg._reconstructor", "copy_reg._reconstructor", "_codecs.encode"]),
        Group(
            why: "numpy's array, dtype and scalar reconstruction: memory from the pickle's bytes, no callable",
            names: [
                "numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct",
                "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
                "numpy._core.multiarray.scalar", "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
                "numpy.ma.core._mareconstruct",
            ]),
        Group(
            why: "numpy's random generators rebuilt from their saved state (bit generator and seed, no callable)",
            names: [
                "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
                "numpy.random._pickle.__generator_ctor", "numpy.random.mtrand.RandomState",
                "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64", "numpy.random._generator.Generator",
                "numpy.random.bit_generator.SeedSequence",
            ]),
        Group(
            why: "numpy scalar types: the element types of arrays and the types of numpy scalars",
            names: [
                "numpy.float64", "numpy.float32", "numpy.float16", "numpy.int64", "numpy.int32", "numpy.int16",
                "numpy.int8", "numpy.uint8", "numpy.uint16", "numpy.uint32", "numpy.uint64", "numpy.bool_",
                "numpy.complex64", "numpy.complex128", "numpy.str_", "numpy.object_",
            ]),
        Group(
            why:
                "numpy's elementwise math (ufuncs and pure array functions), which models keep as values (a FunctionTransformer's func): calling one computes on numbers, nothing else",
            names: [
                "numpy.log", "numpy.log1p", "numpy.log2", "numpy.log10", "numpy.exp", "numpy.expm1", "numpy.sqrt",
                "numpy.cbrt", "numpy.square", "numpy.abs", "numpy.absolute", "numpy.sign", "numpy.tanh",
                "numpy.sinh", "numpy.cosh", "numpy.arctan", "numpy.arcsinh", "numpy.sin", "numpy.cos",
                "numpy.floor", "numpy.ceil", "numpy.rint", "numpy.round", "numpy.clip", "numpy.reciprocal",
                "numpy.negative", "numpy.exp2", "numpy.sum", "numpy.mean", "numpy.median", "numpy.max",
                "numpy.min", "numpy.nanmean", "numpy.nanmedian", "numpy.float_power", "numpy.power",
            ]),
        Group(
            why: "joblib's wrappers of the arrays it writes inline after the pickle (read by joblib, no callable)",
            names: [
                "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle_compat.NDArrayWrapper",
                "joblib.numpy_pickle_compat.ZNDArrayWrapper",
            ]),
        Group(
            why: "pandas' own reconstruction helpers for its index, blocks, arrays and time scalars",
            names: [
                "pandas.core.indexes.base._new_Index", "pandas._libs.internals._unpickle_block",
                "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked", "pandas.core.internals.blocks.new_block",
                "pandas._libs.tslibs.timestamps._unpickle_timestamp",
                "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
            ]),
        Group(
            why:
                "pandas 3 pickles its containers under their public names: only the data classes, not the top-level classes that touch files (HDFStore, ExcelWriter) nor any function",
            names: [
                "pandas.DataFrame", "pandas.Series", "pandas.Index", "pandas.RangeIndex", "pandas.MultiIndex",
                "pandas.DatetimeIndex", "pandas.TimedeltaIndex", "pandas.PeriodIndex", "pandas.CategoricalIndex",
                "pandas.IntervalIndex", "pandas.Categorical", "pandas.CategoricalDtype", "pandas.StringDtype",
                "pandas.DatetimeTZDtype", "pandas.PeriodDtype", "pandas.IntervalDtype", "pandas.SparseDtype",
                "pandas.ArrowDtype", "pandas.BooleanDtype", "pandas.Int8Dtype", "pandas.Int16Dtype",
                "pandas.Int32Dtype", "pandas.Int64Dtype", "pandas.UInt8Dtype", "pandas.UInt16Dtype",
                "pandas.UInt32Dtype", "pandas.UInt64Dtype", "pandas.Float32Dtype", "pandas.Float64Dtype",
                "pandas.Timestamp", "pandas.Timedelta", "pandas.Period", "pandas.Interval", "pandas.DateOffset",
            ]),
        Group(
            why:
                "time zones of tz-aware datetimes, rebuilt from their name (zoneinfo reads the system's tz database)",
            names: [
                "zoneinfo.ZoneInfo", "zoneinfo.ZoneInfo._unpickle", "zoneinfo._zoneinfo.ZoneInfo",
                "zoneinfo._zoneinfo.ZoneInfo._unpickle", "pytz._p", "pytz._UTC", "pytz.timezone",
            ]),
        Group(
            why:
                "torch's tensor rebuild path: PyTorch's own weights-only unpickler's list (storages, dtypes, layouts)",
            names: [
                "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
                "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
                "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
                "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
                "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
                "torch._tensor._rebuild_from_type_v2", "torch.nn.parameter.Parameter",
                "torch.serialization._get_layout", "torch.Size", "torch.Tensor", "torch.device", "torch.FloatStorage",
                "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage",
                "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
                "torch.BoolStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", "torch.QInt8Storage",
                "torch.QUInt8Storage", "torch.QInt32Storage", "torch.QUInt4x2Storage", "torch.QUInt2x4Storage",
                "torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.float32", "torch.float16",
                "torch.bfloat16", "torch.float64", "torch.int64", "torch.int32", "torch.int16", "torch.int8",
                "torch.uint8", "torch.bool", "torch.complex64", "torch.complex128", "torch.per_tensor_affine",
                "torch.strided",
            ]),
    ]

    /// Packages whose classes (CamelCase names, `_BinMapper` too) are allowed, with the dangerous
    /// submodules `ImportPolicy` blocks carved out: estimators and their parts are rebuilt with
    /// `cls.__new__` and their saved state (`__setstate__` of the library's own code).
    static let classPackages: [(package: String, why: String)] = [
        ("sklearn", "scikit-learn's estimators, transformers and their fitted parts (trees, binners, losses)"),
        ("scipy.sparse", "scipy's sparse matrix and array classes, rebuilt from their index and data arrays"),
        ("pandas.core", "pandas' internal data classes (frames, blocks, indexes, arrays, dtypes)"),
        ("pandas.arrays", "pandas' extension arrays"),
        ("xgboost", "XGBoost's estimators and Booster, rebuilt from the raw model bytes in their state"),
        ("lightgbm", "LightGBM's estimators and Booster, rebuilt from the model text in their state"),
        ("numpy.random", "numpy's random generators and bit generators"),
    ]

    /// Other names allowed inside `classPackages`, beside classes.
    static let helpersInClassPackages = (
        why:
            "Cython's pickle helpers (`__pyx_unpickle_X` rebuilds class X from its state), scikit-learn's `newObj` (cls.__new__) and scipy's lower-case sparse classes",
        pyxPrefix: "__pyx_unpickle_", sklearnNewObj: "newObj", scipySuffixes: ["_matrix", "_array"]
    )

    static let names: Set<String> = Set(groups.flatMap(\.names))

    /// Why `full` (`module.name`) is allowed, or nil.
    static func reason(module: String, name: String) -> String? {
        let full = module + "." + name
        if names.contains(full) { return groups.first { $0.names.contains(full) }?.why }
        guard !name.contains("."),
            let entry = classPackages.first(where: { module == $0.package || module.hasPrefix($0.package + ".") })
        else { return nil }
        let bare = name.drop(while: { $0 == "_" })
        if let first = bare.first, first.isUppercase { return entry.why }
        let helpers = helpersInClassPackages
        if name.hasPrefix(helpers.pyxPrefix) || (module.hasPrefix("sklearn.") && name == helpers.sklearnNewObj) {
            return helpers.why
        }
        if module.hasPrefix("scipy.sparse"), helpers.scipySuffixes.contains(where: { name.hasSuffix($0) }) {
            return helpers.why
        }
        return nil
    }
}
