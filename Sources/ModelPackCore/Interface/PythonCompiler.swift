import Foundation

/// Compiles Python source with a real interpreter (`compile()`, as py_compile does) to find
/// syntax errors at their line and column. Nothing is executed: compile() only parses.
enum PythonCompiler {
    struct SyntaxProblem {
        let message: String
        let line: Int?
        let column: Int?
    }

    /// `python3` on PATH, unless MODELPACK_PYTHON names another (or is empty to disable).
    static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let chosen = environment["MODELPACK_PYTHON"] { return chosen.isEmpty ? nil : chosen }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = String(directory) + "/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static let script = """
        import json, sys
        source = sys.stdin.buffer.read()
        try:
            compile(source, "interface.py", "exec", dont_inherit=True)
        except SyntaxError as e:
            print(json.dumps({"message": e.msg, "line": e.lineno, "column": e.offset}))
        except ValueError as e:
            print(json.dumps({"message": str(e), "line": None, "column": None}))
        """

    static func compile(_ source: String, python: String) -> SyntaxProblem? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-I", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        input.fileHandleForWriting.write(Data(source.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard !data.isEmpty,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return SyntaxProblem(
            message: object["message"] as? String ?? "syntax error",
            line: object["line"] as? Int, column: object["column"] as? Int)
    }
}
