import Foundation
import Testing

@testable import ModelPackCore

@Suite struct AuditTests {
    /// Text formats, told apart from the first bytes: JSON by its first non-blank character, CSV by
    /// a comma in the first non-empty line and a second non-empty line (CRLF lines too), else text;
    /// NUL or invalid UTF-8 is binary.
    @Test(arguments: [
        ("a,b\n1,2\n", ArtifactFormat.csv), ("\n\na,b\n\n1,2", .csv), ("a,b\r\n1,2\r\n", .csv),
        ("a,b\n", .text), ("a,b\n\n\n", .text), ("ab\n1,2\n", .text), ("plain words\n", .text),
        (" \n\t{\"a\": 1}", .json), ("[1, 2]", .json), ("a,b\u{0}\n1,2\n", .binary),
    ])
    func textFormatsAreToldApart(text: String, format: ArtifactFormat) {
        let bytes = Array(text.utf8)
        #expect(ArtifactFormat.detect(head: bytes, size: Int64(bytes.count), name: "x") == format)
        #expect(ArtifactFormat.detect(head: [0xFF, 0xFE, 0x41], size: 3, name: "x") == .binary)
    }

    static let corpus = PickleCorpusTests.dir

    /// A model whose artifact is the given file.
    func model(_ tmp: TempDir, artifact: String, named name: String = "model.pkl") throws {
        try Fixture.model(at: tmp.file("m"), extra: [name: try Fixture.read(artifact)])
    }

    @Test func buildRefusesADangerousArtifactUnlessAllowed() throws {
        let tmp = TempDir()
        // (os is in the standard library, so only the payload is wrong with this model.)
        try model(tmp, artifact: Self.corpus.appendingPathComponent("malicious/string_stack_global_GHSA-9gvj.pkl").path)
        let refused = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(refused.status == ExitStatus.problems)
        #expect(refused.stderr.contains("model.pkl: error[MP501]: imports os.system"))
        #expect(!FileSystem.exists(tmp.file("m.zip")))

        let allowed = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--allow-unsafe"])
        #expect(allowed.status == 0)
        #expect(allowed.stderr.contains("(allowed: --allow-unsafe)"))
        let manifest = try BundleReader.inspect(tmp.file("m.zip"), limits: UnpackLimits()).manifest
        #expect(manifest.allowedUnsafe == ["model.pkl"])
        #expect(try Verifier.verify(tmp.file("m.zip"), context: .test).isValid)

        let inspect = try CLI.run(["inspect", tmp.file("m.zip")])
        #expect(inspect.status == ExitStatus.problems)
        #expect(inspect.stdout.contains("UNSAFE     packed with --allow-unsafe: model.pkl"))
        #expect(inspect.stdout.contains("dangerous  pickle"))
    }

    /// --allow-unsafe lets a dangerous artifact through, never an unloadable one.
    @Test func allowUnsafeNeverPacksATruncatedArtifact() throws {
        let tmp = TempDir()
        try model(tmp, artifact: Self.corpus.appendingPathComponent("malicious/truncated_after_payload.pkl").path)
        let result = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--allow-unsafe"])
        #expect(result.status == ExitStatus.problems)
        #expect(result.stderr.contains("model.pkl: error[MP513]"), "\(result.stderr)")
        #expect(result.stderr.contains("warning[MP501]"))
        #expect(!FileSystem.exists(tmp.file("m.zip")))
    }

    /// A class of a module the model ships is accepted; one of a module it neither ships nor
    /// requires, instantiated by the pickle, is not on the allowlist (MP516) and cannot load (MP507).
    @Test func inspectStrictFailsOnUnknownImports() throws {
        let tmp = TempDir()
        let pickle: [UInt8] =
            [0x80, 0x04] + [0x8c, 5] + Array("mylib".utf8) + [0x8c, 5] + Array("Model".utf8)
            + [0x93, 0x29, 0x81, 0x2e]
        try Fixture.model(
            at: tmp.file("m"), extra: ["model.pkl": pickle, "mylib/__init__.py": Array("class Model: pass\n".utf8)])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        let shipped = try CLI.run(["inspect", tmp.file("m.zip"), "--strict"])
        #expect(shipped.status == 0, "\(shipped.stdout)")
        #expect(shipped.stdout.contains("safe     pickle  model.pkl"))

        unlink(tmp.file("m/mylib/__init__.py"))
        let refused = try CLI.run(["validate", tmp.file("m")])
        #expect(refused.status == ExitStatus.problems)
        #expect(refused.stdout.contains("error[MP516]: calls mylib.Model at byte 16, which is not on the allowlist"))
        #expect(refused.stdout.contains("error[MP507]: imports mylib.Model, but no requirement provides 'mylib'"))
        #expect(try CLI.run(["inspect", tmp.file("m.zip"), "--manifest-only"]).status == 0)
    }

    @Test func versionMismatchAndMissingRequirementAreCaughtAtBuild() throws {
        let tmp = TempDir()
        try model(
            tmp, artifact: Self.corpus.appendingPathComponent("benign/random_forest.joblib").path, named: "model.joblib"
        )
        try Fixture.write(Array("scikit-learn==1.5.2\n".utf8), to: tmp.file("m/requirements.txt"))
        try Fixture.write(
            Array(Fixture.metadata.replacingOccurrences(of: "1.9.1", with: "1.5.2").utf8),
            to: tmp.file("m/metadata.yaml"))
        let result = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(result.status == ExitStatus.problems)
        #expect(
            result.stderr.contains("error[MP505]: pickled with scikit-learn 1.9.1, but requirements.txt pins 1.5.2"))
        #expect(result.stderr.contains("error[MP507]: imports numpy"))
    }

    @Test func inspectFormatsAndVerdicts() throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("m"),
            extra: [
                "weights.npy": [0x93] + Array("NUMPY".utf8) + [1, 0, 114, 0]
                    + Array(
                        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
                            + String(repeating: " ", count: 54) + "\n").utf8) + [UInt8](repeating: 0, count: 24),
                "config.json": Array("{\"a\": 1}".utf8),
            ])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.tar.gz")]).status == 0)
        let json = try CLI.run(["inspect", tmp.file("m.tar.gz"), "--format", "json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let artifacts = try #require((doc["audit"] as? [String: Any])?["artifacts"] as? [[String: Any]])
        let byPath = Dictionary(uniqueKeysWithValues: artifacts.map { ($0["path"] as! String, $0) })
        #expect(byPath["weights.npy"]?["format"] as? String == "npy")
        #expect((byPath["weights.npy"]?["details"] as? [String: String])?["shape"] == "(2, 3)")
        #expect(byPath["config.json"]?["format"] as? String == "json")
        let sarif = try CLI.run(["inspect", tmp.file("m.tar.gz"), "--format", "sarif"])
        #expect(sarif.stdout.contains("\"version\" : \"2.1.0\""))
    }

    @Test func aTamperedBundleIsRefusedByTheAudit() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(9000)])
        _ = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: tmp.file("m.tar"), format: .tar), context: .test)
        var bytes = try Fixture.read(tmp.file("m.tar"))
        bytes[try #require(find(Fixture.noise(9000), in: bytes)) + 5] ^= 1
        try Fixture.write(bytes, to: tmp.file("m.tar"))
        let result = try CLI.run(["inspect", tmp.file("m.tar")])
        #expect(result.status == ExitStatus.problems)
        #expect(result.stderr.contains("content differs from the manifest"))
    }
}

@Suite struct TensorFormatTests {
    static func safetensors(_ header: String, data: Int, pad: Bool = true) -> [UInt8] {
        var h = Array(header.utf8)
        if pad { while h.count % 8 != 0 { h.append(0x20) } }
        var out: [UInt8] = []
        var n = UInt64(h.count)
        for _ in 0..<8 { out.append(UInt8(n & 0xff)); n >>= 8 }
        return out + h + [UInt8](repeating: 0, count: data)
    }

    func audit(_ bytes: [UInt8], name: String = "x") throws -> ArtifactAudit {
        try ArtifactAuditor.audit(
            path: name, size: Int64(bytes.count), reader: ByteReader(bytes: bytes), filePath: nil,
            context: AuditContext(limits: Limits()))
    }

    @Test func safetensorsIsValidatedAsTheCrateDoes() throws {
        let good = try audit(
            Self.safetensors(
                #"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},"__metadata__":{"format":"pt"}}"#,
                data: 24))
        #expect(good.format == .safetensors && good.diagnostics.isEmpty)
        #expect(good.details.contains(AuditDetail(key: "parameters", value: "8")))
        let cases = [
            (#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#, 12, "shape × dtype is 16"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "a gap of 4 bytes"),
            (
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8, "overlaps"
            ),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 40, "extra data"),
            (#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, 4, "unknown dtype"),
        ]
        for (header, data, problem) in cases {
            let bad = try audit(Self.safetensors(header, data: data))
            #expect(
                bad.diagnostics.contains { $0.code == .invalidHeader && $0.message.contains(problem) },
                "\(problem): \(bad.diagnostics)")
        }
    }

    @Test func ggufMetadataAndChatTemplate() throws {
        func str(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count), 8) + Array(s.utf8) }
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }
        var bytes = Array("GGUF".utf8) + le(3, 4) + le(2, 8) + le(2, 8)
        bytes += str("general.architecture") + le(8, 4) + str("llama")
        bytes += str("tokenizer.chat_template") + le(8, 4) + str("{% for m in messages %}{{ m.content }}{% endfor %}")
        let a = try audit(bytes)
        #expect(a.format == .gguf)
        #expect(a.details.contains(AuditDetail(key: "architecture", value: "llama")))
        #expect(a.diagnostics.contains { $0.code == .chatTemplate })
    }

    @Test func aFileEndingInsideItsHeaderIsAFindingNotACrash() throws {
        let a = try audit([0x93] + Array("NUMPY".utf8) + [1, 0, 0x40])
        #expect(a.format == .binary)
        #expect(a.diagnostics.map(\.message) == ["the file ends inside its own header (truncated)"])
    }

    @Test func npyObjectArraysAreScanned() throws {
        let header =
            "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }" + String(repeating: " ", count: 60) + "\n"
        let pickle: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x29, 0x52, 0x2e]
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + pickle
        let a = try audit(bytes)
        #expect(a.format == .npy)
        #expect(a.diagnostics.contains { $0.code == .objectArray })
        #expect(a.diagnostics.contains { $0.code == .dangerousImport })
    }

    @Test func zipMembersAreReadThroughTheCentralDirectory() throws {
        // A PyTorch-style zip whose data.pkl imports os.system, with the encryption flag set on
        // the member (loaders ignore flag bits; so must the scanner).
        let tmp = TempDir()
        var raw = RawBundle(format: .zip)
        raw.add("archive/data.pkl", [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x29, 0x52, 0x2e])
        raw.add("archive/version", Array("3\n".utf8))
        try raw.write(to: tmp.file("model.pt"))
        var bytes = try Fixture.read(tmp.file("model.pt"))
        bytes[6] |= 0x01  // general purpose flag bit 0 in the first local header
        try Fixture.write(bytes, to: tmp.file("model.pt"))
        let audits = try Operations.scan([tmp.file("model.pt")], context: .test).audits
        #expect(audits[0].format == .pytorchZip)
        #expect(audits[0].verdict == .dangerous)
        #expect(audits[0].details.contains(AuditDetail(key: "serialization format", value: "3")))
    }

    @Test func kerasLambdaAndForeignModules() throws {
        let tmp = TempDir()
        var raw = RawBundle(format: .zip)
        raw.add(
            "config.json",
            Array(
                #"{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{}},{"class_name":"Lambda","config":{"function":"x"}},{"class_name":"Evil","module":"os","config":{}}]}}"#
                    .utf8))
        raw.add("metadata.json", Array("{}".utf8))
        raw.add("model.weights.h5", [1, 2, 3])
        try raw.write(to: tmp.file("m.keras"))
        let audits = try Operations.scan([tmp.file("m.keras")], context: .test).audits
        #expect(audits[0].format == .keras)
        let messages = audits[0].diagnostics.filter { $0.code == .codeInModel }.map(\.message)
        #expect(messages.contains { $0.contains("Lambda") })
        #expect(messages.contains { $0.contains("module 'os'") })
    }
}

@Suite struct ONNXTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/onnx")

    @Test func aRealModelIsDescribed() throws {
        let scanned = try Operations.scan([Self.dir.appendingPathComponent("tiny.onnx").path], context: .test)
        let (audits, report) = (scanned.audits, scanned.findings)
        let a = audits[0]
        #expect(a.format == .onnx && report.diagnostics.isEmpty)
        let details = Dictionary(uniqueKeysWithValues: a.details.map { ($0.key, $0.value) })
        #expect(details["ir_version"] == "8")
        #expect(details["opsets"] == "ai.onnx 17")
        #expect(details["inputs"] == "x: float32[batch,4]")
        #expect(details["outputs"] == "y: float32[batch,3]")
        #expect(details["nodes"] == "3" && details["initializers"] == "2")
    }

    @Test func externalDataOutsideTheModelIsAFinding() throws {
        let (audits, _) = try Operations.scan(
            [
                Self.dir.appendingPathComponent("escaping_external_data.onnx").path
            ], context: .test
        ).pair
        #expect(audits[0].verdict == .dangerous)
        #expect(
            audits[0].diagnostics.contains { $0.code == .externalData && $0.message.contains("../../../etc/passwd") })
    }

    @Test func aDamaged7zIsAnInvalidHeader() throws {
        let tmp = TempDir()
        try Fixture.write([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0, 4] + Fixture.noise(100), to: tmp.file("model.7z"))
        let audits = try Operations.scan([tmp.file("model.7z")], context: .test).audits
        #expect(audits[0].format == .sevenZip)
        #expect(audits[0].diagnostics.contains { $0.code == .invalidHeader })
    }
}

@Suite struct EnvironmentCoherenceTests {
    func audit(importing module: String) -> ArtifactAudit {
        var a = ArtifactAudit(path: "model.pkl", size: 1, format: .pickle, context: AuditContext(limits: Limits()))
        var scan = PickleScanResult()
        scan.imports = [PickleImport(module: module, name: "_reconstruct", verdict: .safe, reason: nil, offset: 2)]
        a.pickle = scan
        return a
    }

    func findings(_ requirements: String, importing module: String = "numpy._core.multiarray") -> [Diagnostic] {
        var collector = DiagnosticCollector()
        EnvironmentCheck.run(
            [audit(importing: module)], texts: ["requirements.txt": Array(requirements.utf8)],
            paths: ["model.pkl"], into: &collector)
        return collector.diagnostics
    }

    @Test func numpy2PicklesNeedNumpy2() {
        for bad in ["numpy==1.26.4\n", "numpy<2\n", "numpy~=1.26\n", "numpy<=1.26.4\n"] {
            #expect(
                findings(bad).contains { $0.code == .pickledVersionMismatch && $0.message.contains("numpy._core") },
                "\(bad)")
        }
        for good in ["numpy==2.1.0\n", "numpy>=2.1\n", "numpy>=1.24\n", "numpy\n"] {
            #expect(!findings(good).contains { $0.code == .pickledVersionMismatch }, "\(good)")
        }
        // numpy 1.x module paths load everywhere.
        #expect(findings("numpy==1.26.4\n", importing: "numpy.core.multiarray").isEmpty)
    }

    /// XGBoost's raw model records its version; a real XGBClassifier (make_benign.py, xgboost 3.2.0)
    /// against the pins, under its name or one that provides it.
    @Test(
        arguments: [
            ("xgboost==3.2.0\n", nil), ("xgboost==3.1.0\n", DiagnosticCode.pickledVersionMismatch),
            ("xgboost>=3\n", .pickledVersionUnpinned), ("scikit-learn==1.9.1\n", .pickledVersionUnpinned),
            // xgboost-cpu provides xgboost (as the import and framework checks accept).
            ("xgboost-cpu==3.2.0\n", nil), ("xgboost_cpu==3.1.0\n", .pickledVersionMismatch),
        ] as [(String, DiagnosticCode?)])
    func xgboostRecordsItsVersion(_ requirements: String, _ expected: DiagnosticCode?) throws {
        for name in ["xgboost_classifier.joblib", "xgboost_booster_p4.pkl"] {
            let bytes = try Fixture.read(PickleCorpusTests.dir.appendingPathComponent("benign/" + name).path)
            let audit = try ArtifactAuditor.audit(
                path: name, size: Int64(bytes.count), reader: ByteReader(bytes: bytes), filePath: nil,
                context: AuditContext(limits: Limits()))
            #expect(audit.pickle?.recordedVersions["xgboost"] == ["3.2.0"])
            var collector = DiagnosticCollector()
            EnvironmentCheck.run(
                [audit], texts: ["requirements.txt": Array(requirements.utf8)], paths: [name], into: &collector)
            let versionFindings = collector.diagnostics.filter { $0.message.contains("pickled with xgboost 3.2.0") }
            #expect(versionFindings.map(\.code) == (expected.map { [$0] } ?? []), "\(requirements)")
        }
        let tail: [UInt8] =
            Array("}L".utf8) + [0, 0, 0, 0, 0, 0, 0, 7] + Array("version[#L".utf8) + [0, 0, 0, 0, 0, 0, 0, 3]
            + [UInt8(ascii: "i"), 2, UInt8(ascii: "I"), 0, 0x81, UInt8(ascii: "i"), 0, UInt8(ascii: "}")]
        #expect(PickleScanner.xgboostVersion(tail) == "2.129.0")
    }

    @Test func modulesMustBeProvided() {
        let missing = findings("scikit-learn==1.9.1\n", importing: "xgboost.sklearn")
        #expect(missing.contains { $0.code == .importWithoutRequirement && $0.message.contains("(xgboost)") })
        #expect(findings("xgboost==2.1.1\n", importing: "xgboost.sklearn").isEmpty)
        #expect(findings("\n", importing: "collections").isEmpty)  // the standard library
    }
}
