/// The serving runtime shipped in every build context and run by `modelpack serve`: a FastAPI
/// application that imports the bundle's interface.py, calls load_model() once per worker at
/// start-up and serves /predict, /health, /ready, /metadata and /metrics. Its source is the
/// Python files in `runtime/` beside this file, linted and tested with Python's own tools
/// (Tests/runtime); `Generated/ServingRuntime+Files.swift` embeds them, so that a modelpack binary alone
/// writes a complete build context.
enum ServingRuntime {
    /// A file of the runtime by name.
    static func file(_ name: String) -> String { files.first { $0.name == name }?.text ?? "" }

    static var server: String { file("server.py") }
    static var inputs: String { file("modelpack_inputs.py") }
    /// The runtime's own dependencies, pinned (installed beside the model's requirements).
    static var requirements: String { file("requirements.txt") }
}
