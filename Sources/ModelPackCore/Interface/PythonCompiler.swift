import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Compiles Python source with a real interpreter (`compile()`, as py_compile does) to find
/// syntax errors at their line and column. Nothing is executed: compile() only parses.
enum PythonCompiler {
    struct SyntaxProblem {
        let message: String
        let line: Int?
        let column: Int?
    }

    /// Whether the checks may start Python at all (the fuzz targets turn it off: one process
    /// per input is slow, and the fuzzer's timer signals interrupt it).
    @TaskLocal static var enabled = true

    /// `python3` on PATH, unless MODELPACK_PYTHON names another (or is empty to disable).
    static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard enabled else { return nil }
        if let chosen = environment["MODELPACK_PYTHON"] { return chosen.isEmpty ? nil : chosen }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = String(directory) + "/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static let script = """
        import json, sys
        with open(sys.argv[1], "rb") as f:
            source = f.read()
        try:
            compile(source, "interface.py", "exec", dont_inherit=True)
        except SyntaxError as e:
            print(json.dumps({"message": e.msg, "line": e.lineno, "column": e.offset}))
        except ValueError as e:
            print(json.dumps({"message": str(e), "line": None, "column": None}))
        """

    /// The source goes through a private temporary file (no pipe to write into, so no SIGPIPE if
    /// Python exits early), and the answer is read with a loop that retries interrupted reads.
    static func compile(_ source: String, python: String) -> SyntaxProblem? {
        var template = Array((NSTemporaryDirectory() + "/modelpack-interface-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        let path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let bytes = Array(source.utf8)
        let written = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        close(fd)
        guard written else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-I", "-c", script, path]
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        try? output.fileHandleForWriting.close()
        let data = readAll(output.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        guard !data.isEmpty,
            let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any]
        else { return nil }
        return SyntaxProblem(
            message: object["message"] as? String ?? "syntax error",
            line: object["line"] as? Int, column: object["column"] as? Int)
    }

    /// Everything until end of file, retrying reads a signal interrupts (EINTR).
    private static func readAll(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return out }
            out += chunk[0..<n]
        }
    }
}
