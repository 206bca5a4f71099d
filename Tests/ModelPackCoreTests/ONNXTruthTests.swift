import Foundation
import Testing

@testable import ModelPackCore

/// ONNX models as the onnx package writes them (Fixtures/onnx/make_models.py; PyPI onnx, a
/// TEST_DEPS of `make test`): what the audit and init say a graph takes is what a caller gives.
@Suite struct ONNXTruthTests {
    static let script = PickleScannerTests.root.appendingPathComponent(
        "Tests/ModelPackCoreTests/Fixtures/onnx/make_models.py"
    ).path

    /// The models in `tmp/models`, or nil (a recorded failure when the oracles are required).
    static func models(_ tmp: TempDir) throws -> String? {
        guard PythonOracle.available(["onnx", "numpy"]) else {
            if PythonOracle.required { Issue.record("PyPI onnx is not installed (make test-deps)") }
            return nil
        }
        let made = try PythonOracle.run(script, [tmp.file("models")])
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
}
