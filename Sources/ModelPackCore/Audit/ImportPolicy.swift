/// What importing `module.name` during unpickling means.
package enum ImportVerdict: String, Codable, Sendable, Comparable {
    /// On the allowlist: classes and functions that numpy, scikit-learn, scipy, pandas, torch,
    /// xgboost, lightgbm, joblib and the standard containers really pickle.
    case safe
    /// Neither: reported for review (`inspect --strict` fails on it).
    case unknown
    /// On the blocklist: code execution, file or network access, or a way to reach them.
    case dangerous

    private var rank: Int { [.safe: 0, .unknown: 1, .dangerous: 2][self]! }
    package static func < (l: Self, r: Self) -> Bool { l.rank < r.rank }
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
        "mailcap", "site", "cgitb", "zipapp", "sched", "trace", "tracemalloc",
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
        "numpy.savetxt", "numpy.savez", "numpy.savez_compressed", "numpy.loadtxt", "numpy.genfromtxt",
        "numpy.tofile", "joblib.load", "joblib.dump", "joblib.numpy_pickle.load", "joblib.numpy_pickle.dump",
    ]

    /// The verdict on `module.name`: dangerous when the module or name, or any attribute chain it
    /// reaches, is on the blocklist (which only names the danger: safety never comes from missing
    /// it); safe when `PickleAllowlist` has it; unknown otherwise.
    static func verdict(module rawModule: String, name: String) -> (ImportVerdict, String?) {
        let module = rawModule == "__builtin__" ? "builtins" : rawModule  // Python 2's name
        let full = module + "." + name
        let parts = full.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let moduleParts = module.split(separator: ".", omittingEmptySubsequences: false).count
        if parts.contains(where: \.isEmpty) { return (.unknown, "an empty name part (\(full))") }
        // Attribute hops and dunder access (`numpy` + `prod.a`, `numpy.__builtins__`).
        // `__main__` is the module of the script that pickled (a class defined there), not a dunder
        // attribute; what follows it still is judged.
        if parts.dropFirst(module == "__main__" ? 1 : 0).contains(where: {
            $0.hasPrefix("__") && $0.hasSuffix("__") && $0 != "__randomstate_ctor"
                && $0 != "__bit_generator_ctor" && $0 != "__generator_ctor" && $0 != "__newobj__"
        }) {
            return (.dangerous, "reaches a dunder attribute (\(full))")
        }
        // The module itself (with its parents: `os.path` is `os`), then every attribute chain the
        // name walks, from any module: a module's attribute may be another module (`cgitb` +
        // `pydoc.pipepager` is `pydoc.pipepager`; `pathlib` + `os.system` is `os.system`).
        for i in [0] + Array(moduleParts..<parts.count) {
            let suffix = parts[i...].joined(separator: ".")
            if let hit = matchDangerous(suffix) {
                return (.dangerous, i == 0 ? hit : "\(hit), reached through \(parts[..<i].joined(separator: "."))")
            }
        }
        if PickleAllowlist.reason(module: module, name: name) != nil { return (.safe, nil) }
        if name.contains(".") { return (.unknown, "an attribute chain on \(module)") }
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
