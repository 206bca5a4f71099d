import Foundation
import Testing

@testable import ModelPackCore

/// The same broken model gives the same codes and exit status from `validate DIR`, `build DIR`,
/// `validate BUNDLE`, `inspect BUNDLE` and `dockerfile BUNDLE`: one case per shared diagnostic
/// code (the DiagnosticCodeTests cases and the audit's), and every case of issue "One verdict".
@Suite struct OneVerdictTests {
    struct Model: CustomTestStringConvertible, Sendable {
        let name: String
        /// Files replacing the valid fixture's (nil deletes one).
        let files: [String: [UInt8]?]
        /// Codes that must be among the findings.
        let expected: Set<DiagnosticCode>
        /// A bundle cannot lack a required file (its manifest is refused), so MP001 is checked on
        /// directories only.
        var bundleable = true
        /// Built with `build --allow-unsafe` rather than packed as it is.
        var unsafe = false
        var testDescription: String { name }
    }

    static let corpus = PickleCorpusTests.dir
    static func corpusFile(_ name: String) -> [UInt8] {
        (try? Fixture.read(corpus.appendingPathComponent(name).path)) ?? []
    }
    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// The validation cases, as models.
    static let validation: [Model] = DiagnosticCodeTests.cases.map { c in
        var files: [String: [UInt8]?] = ["model.bin": [1, 2, 3]]
        for (path, content) in c.files {
            // (updateValue: assigning nil would drop the key instead of deleting the file)
            files.updateValue(
                content.map { c.code == .unreadableFile ? [0x78, 0x20, 0xff, 0xfe] : Array($0.utf8) }, forKey: path)
        }
        for (path, fixture) in c.copies { files[path] = (try? Fixture.read(fixture)) ?? [] }
        return Model(
            name: c.code.rawValue, files: files, expected: [c.code], bundleable: c.code != .requiredFileMissing)
    }

    static let numpyPickle: [UInt8] = [0x80, 0x02] + text("cnumpy\ndtype\nq") + [0x00, 0x2e]
    static let forest = corpusFile("benign/random_forest.joblib")
    static let withNumpy = text("scikit-learn==1.9.1\nnumpy==2.1.0\nscipy==1.14.1\njoblib==1.4.2\n")

    static let audit: [Model] = [
        Model(
            name: "MP501 dangerous import (bundle built with --allow-unsafe)",
            files: ["model.pkl": corpusFile("malicious/classic_reduce_os_system.pkl")], expected: [.dangerousImport],
            unsafe: true),
        Model(
            name: "MP502 and MP507 a class of a module neither shipped nor required, only referred to",
            files: [
                "model.pkl": [0x80, 0x04, 0x8c, 5] + text("mylib") + [0x8c, 5] + text("Model") + [0x93, 0x2e]
            ], expected: [.unknownImport, .importWithoutRequirement]),
        Model(
            name: "MP516 a call of a function not on the allowlist",
            files: [
                "model.pkl": [0x80, 0x04, 0x8c, 8] + text("calendar") + [0x8c, 6] + text("isleap") + [
                    0x93, 0x4d, 0xe8, 0x07, 0x85, 0x52, 0x2e,
                ]
            ], expected: [.unvettedCall], unsafe: true),
        Model(
            name: "MP515 bytes of no format the audit knows",
            files: ["weights.bin": Fixture.noise(4096)], expected: [.notAudited]),
        Model(
            name: "MP515 unread bytes that interface.py unpickles",
            files: [
                "weights.bin": Fixture.noise(4096),
                "interface.py": text(
                    "import pickle\n\n\nclass Model:\n    def predict(self, rows):\n        return [0.0 for _ in rows]\n\n\n"
                        + "def load_model():\n    with open('weights.bin', 'rb') as f:\n        pickle.load(f)\n    return Model()\n"
                ),
            ], expected: [.notAudited]),
        Model(
            name: "MP503 an opcode argument across a FRAME",
            files: ["model.pkl": corpusFile("malicious/frame_boundary_317.pkl")], expected: [.pickleAnomaly],
            unsafe: true),
        Model(
            name: "MP504 a corrupt pickle",
            files: ["model.pkl": numpyPickle.dropLast() + [0xff]], expected: [.pickleBroken]),
        Model(
            name: "MP505 pickled with another scikit-learn",
            files: [
                "model.joblib": forest,
                "requirements.txt": text("scikit-learn==1.5.2\nnumpy==2.1.0\nscipy==1.14.1\njoblib==1.4.2\n"),
                "metadata.yaml": text(Fixture.metadata.replacingOccurrences(of: "1.9.1", with: "1.5.2")),
            ], expected: [.pickledVersionMismatch]),
        Model(
            name: "MP506 a pickled version the requirements do not pin",
            files: [
                "model.joblib": forest,
                "requirements.txt": text("scikit-learn>=1.0\nnumpy==2.1.0\nscipy==1.14.1\njoblib==1.4.2\n"),
            ], expected: [.pickledVersionUnpinned]),
        Model(
            name: "MP507 a pickle imports numpy, which requirements.txt lacks",
            files: ["model.pkl": numpyPickle], expected: [.importWithoutRequirement]),
        Model(
            name: "MP507 interface.py imports numpy, which requirements.txt lacks",
            files: ["interface.py": text("import numpy as np\n\n" + Fixture.interface)],
            expected: [.importWithoutRequirement]),
        Model(
            name: "MP508 a safetensors header that is not an object",
            files: ["w.safetensors": [7, 0, 0, 0, 0, 0, 0, 0] + text("{\"w\":1}")], expected: [.invalidHeader]),
        Model(
            name: "MP509 ONNX external data outside the model",
            files: [
                "model.onnx":
                    (try? Fixture.read(
                        Golden.fixtures.appendingPathComponent("onnx/escaping_external_data.onnx").path)) ?? []
            ],
            expected: [.externalData], unsafe: true),
        Model(name: "MP510 a GGUF chat template", files: ["model.gguf": gguf], expected: [.chatTemplate]),
        Model(
            name: "MP517 an ONNX model stamped IR 15, newer than the pinned onnxruntime 1.32 loads",
            files: [
                // ModelProto: ir_version 15, opset_import {version 13}.
                "model.onnx": [0x08, 0x0f, 0x42, 0x02, 0x10, 0x0d],
                "requirements.txt": text("scikit-learn==1.9.1\nonnxruntime==1.32.0\n"),
            ], expected: [.onnxVersionUnsupported]),
        Model(
            name: "MP511 a Keras Lambda layer", files: ["model.keras": keras], expected: [.codeInModel], unsafe: true),
        Model(
            name: "MP512 an object array",
            files: ["tokens.npy": objectNPY], expected: [.objectArray]),
        Model(
            name: "MP513 a joblib cut in half",
            files: ["model.joblib": Array(forest.prefix(forest.count / 2)), "requirements.txt": withNumpy],
            expected: [.artifactTruncated]),
        Model(
            name: "MP513 a safetensors shorter than its header says",
            files: ["w.safetensors": safetensors(dataBytes: 8, keep: 4)], expected: [.artifactTruncated]),
        Model(
            name: "MP514 a class pickled from __main__",
            files: ["model.pkl": [0x80, 0x02] + text("c__main__\nClip\nq") + [0x00, 0x29, 0x81, 0x71, 0x01, 0x2e]],
            expected: [.mainModuleClass]),
        Model(
            name: "MP111 a ragged example row",
            files: [
                "metadata.yaml": text(
                    Fixture.metadata.replacingOccurrences(
                        of: "  - {name: x, type: float}\n", with: "  - {name: x, type: tensor, shape: [-1, 8]}\n")
                        + "example:\n  - {x: [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7]]}\n")
            ], expected: [.exampleMismatch]),
        Model(
            name: "no finding: a -r include that travels with the model",
            files: ["requirements.txt": text("-r base.txt\n"), "base.txt": text("scikit-learn==1.9.1\n")],
            expected: []),
    ]

    /// An npy of dtype object: numpy.load(allow_pickle=True) unpickles what follows the header.
    static var objectNPY: [UInt8] {
        var header = text("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }")
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0a)
        let pickle: [UInt8] = [0x80, 0x02, 0x5d, 0x71, 0x00, 0x58, 0x01, 0, 0, 0, 0x61, 0x61, 0x2e]
        return [0x93] + text("NUMPY") + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)] + header + pickle
    }

    /// A .keras archive (a zip: config.json, metadata.json, weights) whose model has a Lambda layer.
    static var keras: [UInt8] {
        let tmp = TempDir()
        var raw = RawBundle(format: .zip)
        raw.add(
            "config.json",
            text(
                #"{"class_name":"Sequential","config":{"layers":[{"class_name":"Lambda","config":{"function":"x"}}]}}"#)
        )
        raw.add("metadata.json", text("{}"))
        raw.add("model.weights.h5", [1, 2, 3])
        try? raw.write(to: tmp.file("m.keras"))
        return (try? Fixture.read(tmp.file("m.keras"))) ?? []
    }

    static var gguf: [UInt8] {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }
        func str(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count), 8) + Array(s.utf8) }
        return text("GGUF") + le(3, 4) + le(0, 8) + le(2, 8) + str("general.architecture") + le(8, 4)
            + str("llama") + str("tokenizer.chat_template") + le(8, 4) + str("{{ messages }}")
    }

    static func safetensors(dataBytes: Int, keep: Int) -> [UInt8] {
        var header = text("{\"w\":{\"dtype\":\"F32\",\"shape\":[\(dataBytes / 4)],\"data_offsets\":[0,\(dataBytes)]}}")
        while header.count % 8 != 0 { header.append(0x20) }
        let n = UInt64(header.count)
        return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xff) } + header + [UInt8](repeating: 0, count: keep)
    }

    static let models = validation + audit

    @Test func everySharedCodeHasAModel() {
        let covered = Set(Self.models.flatMap(\.expected))
        let shared = Set(DiagnosticCode.allCases.filter { $0.rawValue < "MP6" })
        #expect(shared.subtracting(covered).isEmpty, "\(shared.subtracting(covered).map(\.rawValue).sorted())")
        #expect(Self.models.count >= 25)
    }

    /// The codes a command's JSON document gives, and its exit status.
    struct Outcome: Equatable, CustomStringConvertible {
        let status: Int32
        let codes: Set<String>
        var description: String { "exit \(status): \(codes.sorted().joined(separator: " "))" }
    }

    static func outcome(_ arguments: [String]) throws -> Outcome {
        let result = try CLI.run(arguments + ["--format", "json"])
        guard let data = result.stdout.data(using: .utf8),
            let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            return Outcome(status: result.status, codes: ["<no JSON: \(result.stderr)>"])
        }
        let diagnostics =
            (doc["diagnostics"] as? [[String: Any]])
            ?? ((doc["audit"] as? [String: Any])?["diagnostics"]
                as? [[String: Any]]) ?? []
        return Outcome(status: result.status, codes: Set(diagnostics.compactMap { $0["code"] as? String }))
    }

    @Test(arguments: models)
    func everyCommandGivesTheSameVerdict(_ model: Model) throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        for (path, content) in model.files {
            if let content {
                try Fixture.write(content, to: tmp.file("m/" + path))
            } else {
                unlink(tmp.file("m/" + path))
            }
        }
        let reference = try Self.outcome(["validate", tmp.file("m")])
        for code in model.expected {
            #expect(reference.codes.contains(code.rawValue), "validate DIR: \(reference)")
        }
        if model.expected.contains(where: { $0.severity == .error }) {
            #expect(reference.status == ExitStatus.problems, "validate DIR: \(reference)")
        } else if model.expected.isEmpty {
            #expect(reference == Outcome(status: 0, codes: []), "validate DIR: \(reference)")
        }
        var outcomes = ["build DIR": try Self.outcome(["build", tmp.file("m"), "-o", tmp.file("built.zip")])]
        if model.bundleable {
            let bundle = tmp.file("m.zip")
            if model.unsafe {
                let built = try CLI.run(["build", tmp.file("m"), "-o", bundle, "--allow-unsafe"])
                #expect(built.status == 0, "\(built.stderr)")
            } else {
                var raw = RawBundle(format: .zip)
                raw.addHonest(
                    try TempDir.files(under: tmp.file("m")).map { ($0, try Fixture.read(tmp.file("m/" + $0))) })
                try raw.write(to: bundle)
            }
            outcomes["validate BUNDLE"] = try Self.outcome(["validate", bundle])
            outcomes["inspect BUNDLE"] = try Self.outcome(["inspect", bundle])
            outcomes["dockerfile BUNDLE"] = try Self.outcome(["dockerfile", bundle, "-o", tmp.file("ctx")])
        }
        for (command, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            #expect(outcome == reference, "\(command): \(outcome), validate DIR: \(reference)")
        }
    }
}
