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

    /// `python3` on PATH, unless MODELPACK_PYTHON names another (a path, or a name looked up on
    /// PATH), or is empty to disable the check.
    package static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        RunContext.defaultPython(environment: environment)
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

    /// The answer for this source and this interpreter, from the cache when a run already gave it
    /// (keyed by the SHA-256 of the script, the interpreter's resolved path, size and mtime, and the
    /// source), so a second validate or build of the same model does not start Python again. A
    /// cache that cannot be read or written is no cache: Python runs.
    static func compileRemembered(_ source: String, python: String) -> SyntaxProblem? {
        guard let identity = interpreterIdentity(python) else { return compile(source, python: python) }
        let key = SHA256Stream.hex(of: Array((script + "\u{0}" + identity + "\u{0}" + source).utf8))
        let entry = CacheDirectory.path() + "/compile/" + key + ".json"
        if let bytes = try? FileSystem.readWholeFile(entry, limit: 1 << 16),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        {
            return object["ok"] as? Bool == true ? nil : problem(from: object)
        }
        let (answer, ran) = run(source, python: python)
        if ran {
            var object: [String: Any] = ["ok": answer == nil]
            if let answer {
                object["message"] = answer.message
                object["line"] = answer.line ?? NSNull()
                object["column"] = answer.column ?? NSNull()
            }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                try? FileSystem.makeDirectories(CacheDirectory.path() + "/compile")
                try? FileSystem.writeAtomically(Array(data), to: entry)
            }
        }
        return answer
    }

    /// The interpreter as a file (`find` gives a path): its resolved path, size and modification time.
    static func interpreterIdentity(_ python: String) -> String? {
        guard let real = try? FileSystem.realPath(python) else { return nil }
        var st = stat()
        guard stat(real, &st) == 0 else { return nil }
        return "\(real) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    static func compile(_ source: String, python: String) -> SyntaxProblem? {
        run(source, python: python).problem
    }

    private static func problem(from object: [String: Any]) -> SyntaxProblem {
        SyntaxProblem(
            message: object["message"] as? String ?? "syntax error",
            line: object["line"] as? Int, column: object["column"] as? Int)
    }

    /// The source goes through a private temporary file (no pipe to write into, so no SIGPIPE if
    /// Python exits early), and the answer is read with a loop that retries interrupted reads.
    private static func run(_ source: String, python: String) -> (problem: SyntaxProblem?, ran: Bool) {
        var template = Array((NSTemporaryDirectory() + "/modelpack-interface-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return (nil, false) }
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
        guard written else { return (nil, false) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-I", "-c", script, path]
        process.environment = ProcessZone.childEnvironment()
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return (nil, false) }
        try? output.fileHandleForWriting.close()
        let data = readAll(output.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else { return (nil, false) }
        guard !data.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any]
        else { return (nil, true) }
        return (problem(from: object), true)
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
