import Foundation
import Testing

@testable import ModelPackCore

/// Every framework example beyond scikit-learn (ONNX on onnxruntime, LightGBM, safetensors with a
/// numpy forward pass), built into a bundle, run by `modelpack test` and served by a real
/// `modelpack serve` process in serve's real virtualenv (from PyPI): the server answers the
/// example rows of metadata.yaml with its example_outputs. (They validate clean in ValidationTests.)
@Suite(.serialized) struct ExampleServeTests {
    /// metadata.yaml's `example` and `example_outputs` as JSON values, read by PyYAML (a reference
    /// reader, not modelpack's).
    static func examples(_ dir: String) throws -> (rows: [Any], outputs: [Any]) {
        let script = """
            import json, sys, yaml
            d = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
            print(json.dumps([d["example"], d["example_outputs"]]))
            """
        let python = try #require(PythonCompiler.find(), "python3 is needed to read the examples")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, dir + "/metadata.yaml"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let pair = try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]], "PyYAML could not read it")
        return (pair[0], pair[1])
    }

    /// Equal as JSON values, numbers within a relative 1e-6 (as `modelpack test` compares).
    static func same(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            return Set(x.keys) == Set(y.keys) && x.allSatisfy { same($0.value, y[$0.key]!) }
        case (let x as [Any], let y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (let x as String, let y as String): return x == y
        case (let x as NSNumber, let y as NSNumber):
            let (u, v) = (x.doubleValue, y.doubleValue)
            return u == v || abs(u - v) <= 1e-6 * max(abs(u), abs(v))
        default: return false
        }
    }

    @Test(
        .enabled(if: ServeTests.enabled), .timeLimit(.minutes(15)),
        arguments: ["wine-onnx", "diabetes-lightgbm", "digits-safetensors"])
    func theExampleIsBuiltTestedAndServed(_ name: String) throws {
        let dir = ValidationTests.examples.appendingPathComponent(name).path
        let tmp = TempDir()
        let bundle = tmp.file(name + ".tar.zst")
        let built = try CLI.run(["build", dir, "-o", bundle])
        try #require(built.status == 0, "\(built.stdout) \(built.stderr)")
        let tested = try CLI.run(["test", bundle])
        #expect(tested.status == 0 && tested.stdout.contains("passed"), "\(tested.stdout) \(tested.stderr)")

        let (rows, expected) = try Self.examples(dir)
        try Self.serving(bundle) { base in
            try Self.answersItsExamples(base, rows: rows, expected: expected)
        }
    }

    /// Runs `modelpack serve PATH` on a free port until `body` returns; `body` gets the base URL.
    static func serving(_ path: String, _ body: (String) throws -> Void) throws {
        let port = Int.random(in: 20_000...40_000)
        let base = "http://127.0.0.1:\(port)"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CLI.binary)
        server.arguments = ["serve", path, "--port", String(port)]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            for _ in 0..<100 where server.isRunning { Thread.sleep(forTimeInterval: 0.1) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        var up = false
        for _ in 0..<300 where !up && server.isRunning {
            up = (try? ServeTests.curl([base + "/health"]))?.status == 200
            if !up { Thread.sleep(forTimeInterval: 1) }
        }
        try #require(up, "the server of \(path) did not answer /health within 300 s")
        try body(base)
    }

    /// POSTs the rows; the answer must be `expected`, and a row of wrong values a 422.
    static func answersItsExamples(_ base: String, rows: [Any], expected: [Any]) throws {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["instances": rows]), as: UTF8.self)
        let answer = try ServeTests.curl(
            ["-H", "content-type: application/json", "-X", "POST", "-d", body, base + "/predict"])
        try #require(answer.status == 200, "\(answer.status) \(answer.body)")
        let predictions = try #require(
            (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["predictions"])
        #expect(same(predictions, expected), "\(answer.body) vs \(expected)")
        // A row the inputs refuse is a 422 naming the input, before the model sees it.
        let first = try #require(rows.first as? [String: Any])
        let broken = first.mapValues { _ in "not a value" as Any }
        let refused = try ServeTests.curl(
            [
                "-H", "content-type: application/json", "-X", "POST", "-d",
                String(decoding: try JSONSerialization.data(withJSONObject: ["instances": [broken]]), as: UTF8.self),
                base + "/predict",
            ])
        #expect(refused.status == 422, "\(refused.body)")
        #expect(refused.body.contains("\"input\":\"\(first.keys.sorted()[0])\""), "\(refused.body)")
    }
}
