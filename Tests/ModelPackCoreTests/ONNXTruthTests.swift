import Foundation
import Testing

@testable import ModelPackCore

/// ONNX models as the onnx package writes them (Fixtures/onnx/make_models.py; PyPI onnx and
/// onnxruntime, TEST_DEPS of `make test`): what the audit and init say a graph takes is what a
/// caller gives, and a model the pinned onnxruntime cannot load is an error before anything runs.
@Suite struct ONNXTruthTests {
    static let script = PickleScannerTests.root.appendingPathComponent(
        "Tests/ModelPackCoreTests/Fixtures/onnx/make_models.py"
    ).path

    /// The models in `tmp/models`, or nil (a recorded failure when the oracles are required).
    static func models(_ tmp: TempDir, stamped: (ir: Int, opset: Int)? = nil) throws -> String? {
        guard PythonOracle.available(["onnx", "numpy"]) else {
            if PythonOracle.required { Issue.record("PyPI onnx is not installed (make test-deps)") }
            return nil
        }
        let made = try PythonOracle.run(
            script, [tmp.file("models")] + (stamped.map { [String($0.ir), String($0.opset)] } ?? []))
        try #require(made.status == 0, "\(made.output)")
        return tmp.file("models")
    }

    static func details(_ path: String) throws -> [String: String] {
        let run = try CLI.run(["scan", path, "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let artifact = try #require((document["artifacts"] as? [[String: Any]])?.first)
        return try #require(artifact["details"] as? [String: String])
    }

    /// IR < 4 lists every initializer among the graph's inputs too: they are stored weights, never
    /// inputs (onnx's light_squeezenet.onnx would otherwise take 53).
    @Test func initializersAreNeverInputs() throws {
        let tmp = TempDir()
        guard let models = try Self.models(tmp) else { return }
        let ir3 = try Self.details(models + "/ir3_initializers.onnx")
        #expect(ir3["inputs"] == "X: float32[N,3]", "\(ir3)")
        #expect(ir3["initializers among inputs"] == "2", "\(ir3)")
        let squeezenet = try Self.details(models + "/light_squeezenet.onnx")
        #expect(squeezenet["inputs"] == "data_0: float32[1,3,224,224]", "\(squeezenet)")

        let dir = try InitTests.only(models + "/light_squeezenet.onnx", tmp, "squeezenet")
        let python = try InitTests.interpreter(tmp, ["onnxruntime": "1.32.0", "numpy": "2.4.6"])
        let run = try CLI.run(["init", dir, "--python", python])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        let metadata = try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8)
        let inputs = metadata.components(separatedBy: "\noutputs:")[0].components(separatedBy: "\ninputs:").last ?? ""
        #expect(inputs.components(separatedBy: "\n  - ").count == 2, "one input:\n\(metadata)")
        #expect(metadata.contains(#"name: "data_0""#), "\(metadata)")
    }

    /// The table's row for the onnxruntime installed here is what that onnxruntime accepts
    /// (measured by Fixtures/onnx/ort_support.py), and validate holds a model stamped above it to
    /// MP517 while one at the ceiling passes: the same models that onnxruntime loads and refuses.
    @Test func thePinnedOnnxruntimeDecidesWhatLoads() throws {
        guard PythonOracle.available(["onnx", "onnxruntime"]) else {
            if PythonOracle.required { Issue.record("PyPI onnxruntime is not installed (make test-deps)") }
            return
        }
        let probe = try PythonOracle.run(
            PickleScannerTests.root.appendingPathComponent("Tests/ModelPackCoreTests/Fixtures/onnx/ort_support.py")
                .path, [])
        try #require(probe.status == 0, "\(probe.output)")
        let measured = try #require(
            try JSONSerialization.jsonObject(with: Data(probe.output.utf8)) as? [String: Any])
        let version = try #require(measured["onnxruntime"] as? String)
        let parsed = try #require(PEP440Version(version))
        let row = try #require(ONNXRuntimeSupport.ceiling(parsed), "no row for \(version)")
        #expect(
            row
                == ONNXRuntimeSupport.Ceiling(
                    ir: measured["ir"] as? Int ?? -1, opset: measured["opset"] as? Int ?? -1,
                    mlOpset: measured["mlOpset"] as? Int ?? -1), "onnxruntime \(version) measures \(measured)")

        for (stamp, loads) in [
            ((row.ir, row.opset), true), ((row.ir + 1, row.opset), false), ((row.ir, row.opset + 1), false),
        ] {
            let tmp = TempDir()
            guard let models = try Self.models(tmp, stamped: stamp) else { return }
            let model = tmp.file("wine")
            try FileManager.default.copyItem(
                atPath: ValidationTests.examples.appendingPathComponent("wine-onnx").path, toPath: model)
            try FileManager.default.removeItem(atPath: model + "/model.onnx")
            try FileManager.default.copyItem(atPath: models + "/stamped.onnx", toPath: model + "/model.onnx")
            try Fixture.write(Array("onnxruntime==\(version)\nnumpy==2.4.6\n".utf8), to: model + "/requirements.txt")
            let run = try CLI.run(["validate", model])
            let flagged = run.stdout.contains("error[MP517]")
            #expect(flagged == !loads, "IR \(stamp.0), opset \(stamp.1): \(run.stdout)")
            if !loads {
                #expect(
                    run.stdout.contains(
                        "model.onnx: error[MP517]: onnxruntime \(version) (requirements.txt:1) cannot load this model"),
                    "\(run.stdout)")
            }
            // onnxruntime itself agrees.
            let python = try #require(PythonCompiler.find())
            let loaded = try CLI.run(
                [
                    "-c",
                    "import onnxruntime, sys; onnxruntime.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])",
                    model + "/model.onnx",
                ], executable: python)
            #expect((loaded.status == 0) == loads, "onnxruntime on IR \(stamp.0), opset \(stamp.1): \(loaded.stderr)")
        }
    }
}
