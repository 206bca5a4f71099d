import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack init` on a directory holding only an artifact: the three files it writes validate
/// with 0 errors, and the model serves its example in a real server (ONNX so far).
@Suite(.serialized) struct InitTests {
    /// A directory holding only the wine example's model.onnx.
    static func onnxOnly(_ tmp: TempDir) throws -> String {
        let dir = tmp.file("wine")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: ValidationTests.examples.appendingPathComponent("wine-onnx/model.onnx").path,
            toPath: dir + "/model.onnx")
        return dir
    }

    /// Every file of a directory with its bytes.
    static func snapshot(_ dir: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
        }
        return files
    }

    @Test func anONNXModelGetsFilesThatValidateAndAreNeverReplacedSilently() throws {
        let tmp = TempDir()
        let dir = try Self.onnxOnly(tmp)
        let run = try CLI.run(["init", dir])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("wrote \(dir)/metadata.yaml"))
        let report = try ModelCheck.check(dir).report
        #expect(report.errorCount == 0, "\(report.text(colour: false))")
        // Only what the author must supply is left to warn about.
        #expect(
            Set(report.diagnostics.map(\.code)) == [.recommendedField], "\(report.text(colour: false))")
        let metadata = try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8)
        for line in [
            #"  - {name: "features", type: tensor, shape: [13], dtype: float32}"#,
            #"  - {name: "label", type: int, dtype: int64}"#,
            #"  - {name: "probabilities", type: tensor, shape: [3], dtype: float32}"#,
            "  name: onnxruntime", "# license: an SPDX identifier",
        ] {
            #expect(metadata.contains(line), "\(line)\n\(metadata)")
        }

        // A second init refuses before writing anything; --force replaces.
        let before = try Self.snapshot(dir)
        let again = try CLI.run(["init", dir])
        #expect(again.status != 0)
        #expect(again.stderr == "error: \(dir)/requirements.txt: already exists (use --force to replace it)\n")
        #expect(try Self.snapshot(dir) == before)
        #expect(try CLI.run(["init", dir, "--force"]).status == 0)
        #expect(try Self.snapshot(dir) == before, "the same artifact and Python give the same files")
    }

    @Test func versionsComeFromTheNamedPython() throws {
        let tmp = TempDir()
        let dir = try Self.onnxOnly(tmp)
        // A real interpreter (a virtualenv) where onnxruntime 1.31.0 is installed (its metadata, which
        // is what importlib.metadata reads) and numpy is not.
        let python = try #require(PythonCompiler.find(), "python3 is needed")
        let venv = try CLI.run(["-m", "venv", "--without-pip", tmp.file("venv")], executable: python)
        try #require(venv.status == 0, "\(venv.stderr)")
        let lib = tmp.file("venv/lib")
        let site = try #require(try FileManager.default.contentsOfDirectory(atPath: lib).first) + "/site-packages"
        let info = lib + "/" + site + "/onnxruntime-1.31.0.dist-info"
        try FileManager.default.createDirectory(atPath: info, withIntermediateDirectories: true)
        try Fixture.write(
            Array("Metadata-Version: 2.1\nName: onnxruntime\nVersion: 1.31.0\n".utf8), to: info + "/METADATA")
        let run = try CLI.run(["init", dir, "--python", tmp.file("venv/bin/python")])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        let requirements = try String(contentsOfFile: dir + "/requirements.txt", encoding: .utf8)
        #expect(requirements.hasSuffix("onnxruntime==1.31.0\nnumpy\n"), "\(requirements)")
        #expect(run.stdout.contains("note: numpy is not installed in Python 3."), "\(run.stdout)")
        let metadata = try String(contentsOfFile: dir + "/metadata.yaml", encoding: .utf8)
        #expect(metadata.contains("  version: 1.31.0\n"), "\(metadata)")
    }

    @Test func whatInitCannotReadIsRefusedWithNothingWritten() throws {
        let tmp = TempDir()
        try Fixture.write([0x80, 0x04, 0x4b, 0x01, 0x2e], to: tmp.file("m/model.pkl"))
        let run = try CLI.run(["init", tmp.file("m")])
        #expect(run.status != 0)
        #expect(run.stderr.hasPrefix("error: \(tmp.file("m")): "), "\(run.stderr)")
        #expect(run.stderr.contains("init reads ONNX models so far"), "\(run.stderr)")
        #expect(run.stderr.contains("model.pkl (pickle)"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.file("m")) == ["model.pkl"])
        let missing = try CLI.run(["init", tmp.file("nowhere")])
        #expect(missing.status != 0 && missing.stderr.contains("nowhere: no such file or directory"))
    }

    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func theInitialisedModelServesItsExampleAndRealRows() throws {
        let tmp = TempDir()
        let dir = try Self.onnxOnly(tmp)
        let run = try CLI.run(["init", dir])
        try #require(run.status == 0, "\(run.stdout) \(run.stderr)")
        let tested = try CLI.run(["test", dir])
        #expect(tested.status == 0 && tested.stdout.contains("passed"), "\(tested.stdout) \(tested.stderr)")
        try ExampleServeTests.serving(dir) { base in
            // The wine data's first row is cultivar 0 (as Examples/wine-onnx answers).
            let row = #"{"features": [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065]}"#
            let answer = try ServeTests.curl(
                ["-H", "content-type: application/json", "-X", "POST", "-d", row, base + "/predict"])
            try #require(answer.status == 200, "\(answer.status) \(answer.body)")
            let prediction = try #require(
                (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["prediction"]
                    as? [String: Any], "\(answer.body)")
            #expect(prediction["label"] as? Int == 0, "\(answer.body)")
            let p = try #require(prediction["probabilities"] as? [Double], "\(answer.body)")
            #expect(p.count == 3 && abs(p[0] - 0.9995) < 1e-4, "\(answer.body)")
        }
    }
}
