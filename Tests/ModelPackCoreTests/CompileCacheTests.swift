import Foundation
import Testing

@testable import ModelPackCore

/// interface.py's compile check remembers its answer by source and interpreter: the second
/// validate of the same model does not start Python, and still reports what Python said.
@Suite struct CompileCacheTests {
    /// An "interpreter" that counts its runs, then is python3.
    static func countingPython(_ tmp: TempDir) throws -> String {
        let python = try #require(
            PythonCompiler.find(environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]))
        let script = tmp.file("python")
        try Fixture.write(Array("#!/bin/sh\necho run >> \(tmp.file("runs"))\nexec \(python) \"$@\"\n".utf8), to: script)
        chmod(script, 0o755)
        return script
    }

    static func runs(_ tmp: TempDir) -> Int {
        ((try? Fixture.read(tmp.file("runs"))) ?? []).filter { $0 == 0x0a }.count
    }

    @Test(.enabled(if: PythonOracle.required || PythonCompiler.find() != nil))
    func aSecondValidateDoesNotStartPython() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        let environment = ["MODELPACK_PYTHON": try Self.countingPython(tmp), "MODELPACK_CACHE": tmp.file("cache")]
        for _ in 0..<2 { #expect(try CLI.run(["validate", tmp.file("m")], environment: environment).status == 0) }
        #expect(Self.runs(tmp) == 1)

        try Fixture.write(Array("def load_model():\n    return '''oops\n".utf8), to: tmp.file("m/interface.py"))
        for _ in 0..<2 {
            let broken = try CLI.run(["validate", tmp.file("m")], environment: environment)
            #expect(broken.status == ExitStatus.problems)
            #expect(broken.stdout.contains("interface.py:2:12: error[MP304]"), "\(broken.stdout)")
        }
        #expect(Self.runs(tmp) == 2)  // one run per source, whatever it said

        // Another interpreter (here: the same one, edited) is asked again.
        try Fixture.write(
            Array("#!/bin/sh\n# edited\necho run >> \(tmp.file("runs"))\nexec python3 \"$@\"\n".utf8),
            to: tmp.file("python"))
        #expect(try CLI.run(["validate", tmp.file("m")], environment: environment).status == ExitStatus.problems)
        #expect(Self.runs(tmp) == 3)
    }

    /// Two interpreters named bare, found on PATH, are two interpreters: each is asked once.
    @Test(.enabled(if: PythonOracle.required || PythonCompiler.find() != nil))
    func aBareInterpreterNameIsTheOneOnPath() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        let counting = try Self.countingPython(tmp)
        try FileSystem.makeDirectories(tmp.file("bin"))
        for name in ["mp-python-a", "mp-python-b"] {
            try Fixture.write(
                Array("#!/bin/sh\n# \(name)\nexec \(counting) \"$@\"\n".utf8), to: tmp.file("bin/" + name))
            chmod(tmp.file("bin/" + name), 0o755)
        }
        let path = tmp.file("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        for name in ["mp-python-a", "mp-python-b", "mp-python-a"] {
            let result = try CLI.run(
                ["validate", tmp.file("m")],
                environment: ["MODELPACK_PYTHON": name, "MODELPACK_CACHE": tmp.file("cache"), "PATH": path])
            #expect(result.status == 0, "\(result.stdout)")
        }
        #expect(Self.runs(tmp) == 2)
    }
}
