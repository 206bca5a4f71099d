import Foundation

/// What one run of a command works with, handed to every operation and from there to every
/// reader explicitly (never through task-locals, which do not cross the project's own threads):
/// the bounds on its input, where progress and log lines go, and the interpreter the checks
/// compile interface.py with. The CLI makes one from its flags; `serving.json` carries its limits
/// to the Python runners (Spark and Ray executors hold bundles to the same bounds).
package struct RunContext: Sendable {
    package var limits: Limits
    /// Told the bytes a phase moves and each piece moved (build, unpack, verify, push, pull...).
    package var progress: TransferObserver?
    /// Lines for the user while a long command works (serve, test, predict: environment set-up).
    package var log: @Sendable (String) -> Void
    /// The interpreter that compiles interface.py to find syntax errors (nil: not started).
    package var python: String?
    /// Whether the user watches stderr on a terminal (and did not ask for quiet): a child
    /// process may then draw its own progress line (predict's Python driver).
    package var interactive = false

    package init(
        limits: Limits = Limits(), progress: TransferObserver? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in },
        python: String? = RunContext.defaultPython()
    ) {
        self.limits = limits
        self.progress = progress
        self.log = log
        self.python = python
    }

    /// The interpreter the checks compile interface.py with: `python3` on PATH, unless
    /// MODELPACK_PYTHON names another (a path, or a name looked up on PATH), or is empty to
    /// disable the check.
    package static func defaultPython(environment given: [String: String]? = nil) -> String? {
        let environment = given ?? ProcessInfo.processInfo.environment
        let name = environment["MODELPACK_PYTHON"] ?? "python3"
        if name.isEmpty { return nil }
        if name.contains("/") { return name }
        return FileSystem.executableOnPath(name, environment: environment)
    }

    /// Reports the start of a phase that moves `bytes`.
    func total(_ bytes: Int64) { progress?(.total(bytes)) }

    /// Reports `bytes` of `path` moved.
    func moved(_ path: String, _ bytes: Int) {
        if bytes > 0, let progress { progress(.moved(path: path, bytes: Int64(bytes))) }
    }
}
