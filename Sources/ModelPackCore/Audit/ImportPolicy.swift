/// What importing `module.name` during unpickling means.
public enum ImportVerdict: String, Codable, Sendable, Comparable {
    /// On the allowlist: classes and functions that numpy, scikit-learn, scipy, pandas, torch,
    /// xgboost, lightgbm, joblib and the standard containers really pickle.
    case safe
    /// Neither: reported for review (`inspect --strict` fails on it).
    case unknown
    /// On the blocklist: code execution, file or network access, or a way to reach them.
    case dangerous

    private var rank: Int { [.safe: 0, .unknown: 1, .dangerous: 2][self]! }
    public static func < (l: Self, r: Self) -> Bool { l.rank < r.rank }
}

/// The verdict for each global a pickle imports. See Docs/AUDIT.md for the lists and their sources
/// (picklescan, fickling, modelscan and PyTorch's weights-only unpickler).
enum ImportPolicy {
    /// Modules dangerous as a whole, with every submodule (`os` covers `os.path`).
    static let dangerousModules: Set<String> = [
        "os", "posix", "nt", "subprocess", "_posixsubprocess", "sys", "runpy", "socket", "_socket", "ssl",
        "ctypes", "_ctypes", "pickle", "_pickle", "cPickle", "marshal", "importlib", "_frozen_importlib",
        "_frozen_importlib_external", "_imp", "imp", "zipimport", "pkgutil", "pty", "shutil", "asyncio",
        "multiprocessing", "concurrent", "threading", "_thread", "signal", "_signal", "atexit", "code", "codeop",
        "types", "timeit", "pdb", "bdb", "profile", "cProfile", "trace", "pydoc", "webbrowser", "http",
        "httplib", "urllib", "urllib2", "urllib3", "requests", "aiohttp", "ftplib", "smtplib", "poplib",
        "imaplib", "nntplib", "telnetlib", "socketserver", "xmlrpc", "pip", "ensurepip", "venv", "distutils",
        "setuptools", "inspect", "gc", "sqlite3", "tempfile", "glob", "fileinput", "shelve", "dill",
        "cloudpickle", "linecache", "compileall", "py_compile", "mmap", "select", "selectors", "idlelib",
        "lib2to3", "doctest", "commands", "pexpect", "pipes", "platform", "_interpreters", "_xxsubinterpreters",
        "uuid", "_osx_support", "_aix_support", "_pyrepl", "test", "tarfile", "zipfile", "builtins.exec",
        "numpy.f2py", "numpy.distutils", "numpy.testing", "numpy.ctypeslib", "torch.hub", "torch._dynamo",
        "torch._inductor", "torch.jit", "torch.compile", "torch.serialization", "torch.utils.collect_env",
        "torch.utils.bottleneck", "torch.utils._config_module", "torch.utils.data.datapipes",
        "torch.fx.experimental.symbolic_shapes", "pandas.io", "sklearn.datasets", "sklearn.utils._testing",
        "sklearn.externals", "joblib._store_backends", "joblib.parallel", "joblib.memory", "mlflow.projects",
        "mlflow.utils.process",
    ]

    /// Single dangerous names in otherwise ordinary modules.
    static let dangerousNames: Set<String> = [
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr",
        "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.breakpoint", "builtins.input",
        "builtins.apply", "builtins.globals", "builtins.locals", "builtins.vars", "builtins.exit",
        "builtins.quit", "builtins.help", "builtins.execfile", "builtins.reload", "builtins.file",
        "operator.attrgetter", "operator.itemgetter", "operator.methodcaller", "_operator.attrgetter",
        "_operator.itemgetter", "_operator.methodcaller", "functools.partial", "_functools.partial",
        "functools.reduce", "logging.FileHandler", "logging.config", "io.open", "io.FileIO", "_io.FileIO",
        "_io.open", "codecs.open", "numpy.load", "numpy.fromfile", "numpy.memmap", "numpy.save",
        "numpy.lib.npyio", "pandas.read_csv", "pandas.read_pickle", "pandas.read_json", "pandas.read_sql",
        "pandas.eval", "pandas.core.computation", "torch.load", "torch.storage._load_from_bytes",
        "torch.ops", "tensorflow.io", "tensorflow.compat.v1.io", "keras.utils.get_file",
    ]

    /// Modules whose re-exported names are followed: `pathlib` + `os.system` is `os.system`.
    static let reexportedRoots = [
        "os", "sys", "subprocess", "builtins", "posix", "nt", "importlib", "pickle",
        "marshal", "socket", "ctypes", "runpy", "shutil", "pty", "eval", "exec",
    ]

    static let safeNames: Set<String> = [
        "collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
        "builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.complex", "builtins.slice",
        "builtins.range", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.int", "builtins.float",
        "builtins.bool", "builtins.str", "builtins.bytes", "builtins.object", "copyreg._reconstructor",
        "copy_reg._reconstructor", "_codecs.encode", "datetime.datetime", "datetime.date", "datetime.timedelta",
        "datetime.timezone", "decimal.Decimal", "fractions.Fraction",
        // numpy
        "numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer", "numpy.ma.core._mareconstruct", "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__bit_generator_ctor", "numpy.random._pickle.__generator_ctor",
        "numpy.random.mtrand.RandomState", "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64",
        "numpy.random._generator.Generator", "numpy.random.bit_generator.SeedSequence",
        // joblib's own array wrappers
        "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle_compat.NDArrayWrapper",
        "joblib.numpy_pickle_compat.ZNDArrayWrapper",
        // pandas reconstruction helpers
        "pandas.core.indexes.base._new_Index", "pandas._libs.internals._unpickle_block",
        "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked", "pandas.core.internals.blocks.new_block",
        "pandas._libs.tslibs.timestamps._unpickle_timestamp", "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
        // pandas 3 pickles its containers under their public names; only the data classes, not
        // the top-level classes that touch files (HDFStore, ExcelWriter) nor any function.
        "pandas.DataFrame", "pandas.Series", "pandas.Index", "pandas.RangeIndex", "pandas.MultiIndex",
        "pandas.DatetimeIndex", "pandas.TimedeltaIndex", "pandas.PeriodIndex", "pandas.CategoricalIndex",
        "pandas.IntervalIndex", "pandas.Categorical", "pandas.CategoricalDtype", "pandas.StringDtype",
        "pandas.DatetimeTZDtype", "pandas.PeriodDtype", "pandas.IntervalDtype", "pandas.SparseDtype",
        "pandas.ArrowDtype", "pandas.BooleanDtype", "pandas.Int8Dtype", "pandas.Int16Dtype", "pandas.Int32Dtype",
        "pandas.Int64Dtype", "pandas.UInt8Dtype", "pandas.UInt16Dtype", "pandas.UInt32Dtype", "pandas.UInt64Dtype",
        "pandas.Float32Dtype", "pandas.Float64Dtype", "pandas.Timestamp", "pandas.Timedelta", "pandas.Period",
        "pandas.Interval", "pandas.DateOffset",
        // torch's tensor rebuild path (the weights-only unpickler's list)
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor",
        "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._tensor._rebuild_from_type_v2",
        "torch.nn.parameter.Parameter", "torch.serialization._get_layout", "torch.Size", "torch.Tensor",
        "torch.device", "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
        "torch.BoolStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", "torch.QInt8Storage",
        "torch.QUInt8Storage", "torch.QInt32Storage", "torch.QUInt4x2Storage", "torch.QUInt2x4Storage",
        "torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.float32", "torch.float16",
        "torch.bfloat16", "torch.float64", "torch.int64", "torch.int32", "torch.int16", "torch.int8", "torch.uint8",
        "torch.bool", "torch.complex64", "torch.complex128", "torch.per_tensor_affine", "torch.strided",
    ]

    /// Packages whose classes (CamelCase names) are allowed, except the dangerous submodules above.
    static let safeClassPackages = [
        "sklearn", "scipy.sparse", "pandas.core", "pandas.arrays", "xgboost", "lightgbm",
        "numpy.random",
    ]

    static func verdict(module rawModule: String, name: String) -> (ImportVerdict, String?) {
        let module = rawModule == "__builtin__" ? "builtins" : rawModule  // Python 2's name
        let full = module + "." + name
        let parts = full.split(separator: ".").map(String.init)
        // Attribute hops and dunder access (`numpy` + `prod.a`, `numpy.__builtins__`).
        // `__main__` is the module of the script that pickled (a class defined there), not a dunder
        // attribute; what follows it still is judged.
        if parts.dropFirst(module == "__main__" ? 1 : 0).contains(where: {
            $0.hasPrefix("__") && $0.hasSuffix("__") && $0 != "__randomstate_ctor"
                && $0 != "__bit_generator_ctor" && $0 != "__generator_ctor" && $0 != "__newobj__"
        }) {
            return (.dangerous, "reaches a dunder attribute (\(full))")
        }
        for i in 0..<parts.count {
            let suffix = parts[i...].joined(separator: ".")
            if i > 0, !reexportedRoots.contains(parts[i]) { continue }
            if let hit = matchDangerous(suffix) {
                return (.dangerous, i == 0 ? hit : "\(hit), reached through \(parts[..<i].joined(separator: "."))")
            }
        }
        if name.contains(".") { return (.unknown, "a dotted name (attribute access on \(module))") }
        if safeNames.contains(full) { return (.safe, nil) }
        if safeClassPackages.contains(where: { module == $0 || module.hasPrefix($0 + ".") }) {
            // Classes (CamelCase, also `_BinMapper`), Cython's pickle helpers (`__pyx_unpickle_X`
            // rebuilds class X from its state), scikit-learn's `newObj` (calls cls.__new__) and
            // scipy's lower-case sparse classes.
            let bare = name.drop(while: { $0 == "_" })
            if let first = bare.first, first.isUppercase { return (.safe, nil) }
            if name.hasPrefix("__pyx_unpickle_") || (module.hasPrefix("sklearn.") && name == "newObj") {
                return (.safe, nil)
            }
            if module.hasPrefix("scipy.sparse"), name.hasSuffix("_matrix") || name.hasSuffix("_array") {
                return (.safe, nil)
            }
        }
        if module == "numpy" || module.hasPrefix("numpy."),
            [
                "float64", "float32", "int64", "int32", "bool_", "float16",
                "int8", "int16", "uint8", "uint16", "uint32", "uint64", "complex64", "complex128", "str_", "object_",
            ].contains(name)
        {
            return (.safe, nil)
        }
        return (.unknown, nil)
    }

    private static func matchDangerous(_ dotted: String) -> String? {
        let normalised = dotted.hasPrefix("__builtin__.") ? "builtins." + dotted.dropFirst(12) : dotted
        if dangerousNames.contains(normalised) { return "\(normalised) is on the blocklist" }
        for entry in dangerousNames where normalised.hasPrefix(entry + ".") { return "\(entry) is on the blocklist" }
        var candidate = normalised
        while true {
            if dangerousModules.contains(candidate) { return "module \(candidate) is on the blocklist" }
            guard let dot = candidate.lastIndex(of: ".") else { return nil }
            candidate = String(candidate[..<dot])
        }
    }
}
