import Foundation
import Testing

@testable import ModelPackCore

/// The audit reads what the loader reads (issue "Fail closed"): the hostile corpora of
/// Fixtures/arrays, Fixtures/onnx/malicious and Fixtures/keras (made by the scripts beside them,
/// each payload proven to run by Fixtures/pickles/verify_payloads.py), and the rules around them.
@Suite struct FailClosedTests {
    static let fixtures = PickleCorpusTests.dir.deletingLastPathComponent()

    static func files(_ folder: String) -> [String] {
        let dir = fixtures.appendingPathComponent(folder).path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { folder + "/" + $0 }
    }

    static func scan(_ relative: String) throws -> (ArtifactAudit, DiagnosticReport) {
        let scanned = try Operations.scan([fixtures.appendingPathComponent(relative).path], context: .test)
        let (audits, report) = (scanned.audits, scanned.findings)
        return (audits[0], report)
    }

    @Test func theCorporaAreThere() {
        #expect(Self.files("arrays/malicious").count >= 5)
        #expect(Self.files("arrays/benign").count >= 3)
        #expect(Self.files("onnx/malicious").count >= 5)
        #expect(Self.files("keras/malicious").count >= 4)
    }

    /// Object arrays under any spelling (`'object'`, a structured field, a subarray, a version 2
    /// header, inside an npz) are object arrays, and their pickle is scanned.
    @Test(arguments: files("arrays/malicious"))
    func everyObjectArrayIsScanned(_ file: String) throws {
        let (audit, report) = try Self.scan(file)
        #expect(report.diagnostics.contains { $0.code == .objectArray }, "\(report.diagnostics.map(\.message))")
        #expect(audit.verdict == .dangerous, "\(report.diagnostics.map(\.message))")
    }

    @Test(arguments: files("arrays/benign"))
    func numericArraysAreSafe(_ file: String) throws {
        let (audit, report) = try Self.scan(file)
        #expect(audit.verdict == .safe)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics.map(\.message))")
    }

    /// External data outside the model wherever a tensor can be: a Constant node, If and Loop
    /// bodies, a sparse initializer, a model-local function.
    @Test(arguments: files("onnx/malicious"))
    func everyONNXTensorLocationIsChecked(_ file: String) throws {
        let (audit, report) = try Self.scan(file)
        #expect(report.diagnostics.contains { $0.code == .externalData }, "\(report.diagnostics.map(\.message))")
        #expect(audit.verdict == .dangerous)
    }

    /// A lambda as an activation, get_file in a nested model, a lookup layer's vocabulary path.
    @Test(arguments: files("keras/malicious"))
    func kerasConfigsAreWalkedWhole(_ file: String) throws {
        let (audit, report) = try Self.scan(file)
        #expect(
            report.diagnostics.contains { $0.code == .codeInModel || $0.code == .externalData },
            "\(report.diagnostics.map(\.message))")
        #expect(audit.verdict == .dangerous)
    }

    /// The real models saved with joblib's compressors are read through and judged as what they
    /// hold: the same imports, versions and verdict as uncompressed.
    @Test func compressedModelsAreAuditedAsWhatTheyHold() throws {
        let (audit, report) = try Self.scan("pickles/benign/random_forest_compress3_zlib.joblib")
        #expect(audit.verdict == .safe && report.diagnostics.isEmpty, "\(report.diagnostics.map(\.message))")
        #expect(audit.format == .joblib)
        #expect(audit.compression == [.zlib])
        #expect(audit.pickle?.recordedVersions["scikit-learn"]?.isEmpty == false)
        #expect(audit.details.contains { $0.key == "compression" && $0.value == "zlib" })
        let (nested, _) = try Self.scan("pickles/malicious/compressed_gzip_of_zlib.joblib.gz")
        #expect(nested.compression == [.gzip, .zlib])
    }

    /// MP505 and MP507 hold for a compressed model as for a plain one.
    @Test func aCompressedModelMeetsTheEnvironmentChecks() throws {
        let tmp = TempDir()
        let model = try Fixture.read(
            Self.fixtures.appendingPathComponent("pickles/benign/random_forest_compress3_zlib.joblib").path)
        try Fixture.model(
            at: tmp.file("m"), extra: ["model.joblib": model, "requirements.txt": Array("scikit-learn==1.5.2\n".utf8)])
        let result = try CLI.run(["validate", tmp.file("m")])
        #expect(result.status == ExitStatus.problems)
        #expect(result.stdout.contains("error[MP505]: pickled with scikit-learn"), "\(result.stdout)")
        #expect(result.stdout.contains("error[MP507]: imports numpy"), "\(result.stdout)")
    }

    /// A compression bomb inside an artifact stops at the unpack limits, as a bundle's does.
    @Test func aCompressedArtifactIsHeldToTheUnpackLimits() throws {
        // 64 MiB of zeros in gzip is 64 KiB: over the ratio once past the floor.
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let gzip = try Self.gzip(zeros)
        var limits = Limits()
        limits.unpack.ratioFloor = 1 << 20
        limits.unpack.maxRatio = 100
        let audit = try ArtifactAuditor.audit(
            path: "zeros.gz", size: Int64(gzip.count), reader: ByteReader(bytes: gzip), filePath: nil,
            context: AuditContext(limits: limits))
        #expect(audit.verdict != .safe)
        #expect(
            audit.diagnostics.contains { $0.code == .notAudited && $0.message.contains("expands more than 100:1") },
            "\(audit.diagnostics.map(\.message))")
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let tmp = TempDir()
        try Fixture.write(bytes, to: tmp.file("z"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-n", tmp.file("z")]
        try process.run()
        process.waitUntilExit()
        return try Fixture.read(tmp.file("z.gz"))
    }

    /// Text that merely starts like a zlib header (`(S...` is 0x28 0x53, a valid header check) is
    /// not taken for a compressed stream: the protocol 0 pickle behind it is scanned.
    @Test func textThatLooksLikeZlibIsNotDecompressed() throws {
        let pickle = Array("(S'echo pwned'\nisubprocess\ncheck_output\n.".utf8)
        let audit = try ArtifactAuditor.audit(
            path: "p.pkl", size: Int64(pickle.count), reader: ByteReader(bytes: pickle), filePath: nil,
            context: AuditContext(limits: Limits()))
        #expect(audit.format == .pickle && audit.verdict == .dangerous)
    }

    /// numpy's header is a Python literal: every dtype spelling numpy reads is told apart.
    @Test(
        arguments: [
            ("'<f8'", false), ("'|O'", true), ("'object'", true), ("'O8'", true), ("'i4,f8'", false), ("'i4,O'", true),
            ("[('a', '<i8'), ('b', '|O')]", true), ("[('a', '<i8'), ('b', ('<f4', (2,)))]", false),
            ("[(('title', 'a'), 'O')]", true), ("('O', (2,))", true), ("'<M8[ns]'", false), ("'<U10'", false),
            ("'wat'", nil), ("{'names': ['a'], 'formats': ['O']}", nil),
        ] as [(String, Bool?)])
    func numpyDescriptionsAreRead(_ descr: String, _ object: Bool?) throws {
        let literal = try #require(PythonLiteral.parse(descr))
        #expect(NumpyDescr.hasObject(literal) == object, "\(descr)")
    }

    /// A dtype the audit cannot read is not safe.
    @Test func anUnknownDtypeIsNotSafe() throws {
        var header = Array("{'descr': 'wat', 'fortran_order': False, 'shape': (1,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        let npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8((header.count + 1) & 0xff), 0] + header + [0x0a]
        let audit = try ArtifactAuditor.audit(
            path: "x.npy", size: Int64(npy.count), reader: ByteReader(bytes: npy), filePath: nil,
            context: AuditContext(limits: Limits()))
        #expect(audit.verdict == .unknown)
        #expect(audit.diagnostics.contains { $0.code == .notAudited && $0.severity == .error })  // named .npy
    }

    /// Bytecode never enters a bundle: the path rule refuses it where build, unpack and pull
    /// judge paths.
    @Test(arguments: [
        "__pycache__/interface.cpython-311.pyc", "pkg/__pycache__/x.cpython-312.pyc", "features.pyc", "a/b.PYO",
    ])
    func bytecodeIsNoBundlePath(_ path: String) {
        #expect(BundlePath.problem(with: path, maxPathBytes: 1024)?.contains("Python bytecode") == true)
    }

    @Test func buildRefusesBytecodeTheIgnoreRulesLetIn() throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("m"),
            extra: [
                "__pycache__/interface.cpython-311.pyc": [0x6f, 0x0d, 0x0d, 0x0a],
                ".modelpackignore": Array("!__pycache__/\n!*.pyc\n".utf8),
            ])
        let build = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(build.status != 0)
        #expect(build.stderr.contains("Python bytecode"), "\(build.stderr)")
        #expect(build.stderr.split(separator: "\n").count == 1, "\(build.stderr)")
        #expect(!FileSystem.exists(tmp.file("m.zip")))
        // By default bytecode is left out, as the other junk is.
        unlink(tmp.file("m/.modelpackignore"))
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
    }

    /// How interface.py loads: the code-running loaders, through import aliases; numpy only with
    /// allow_pickle; the artifacts its literals name.
    @Test func theInterfacesLoadersAreFound() {
        let source = """
            import joblib as jl
            from pickle import load as unpickle
            import numpy as np
            import torch

            def load_model():
                a = jl.load("model.joblib")
                b = np.load("x.npy")
                c = np.load("y.npy", allow_pickle=True)
                with open(f"weights/{name}", "rb") as f:
                    d = unpickle(f)
                return torch.load('w.pt', weights_only=True)
            """
        let uses = PickleLoaders.uses(in: source).map(\.loader)
        #expect(uses == ["joblib.load", "numpy.load", "pickle.load", "torch.load"])
        #expect(
            PickleLoaders.named(["model.joblib", "sub/w.pt", "other.bin"], in: source) == ["model.joblib", "sub/w.pt"])
    }
}

/// The case of issue "Fail closed": a model whose joblib, saved with `compress=3`, calls
/// os.system. Every command that judges it refuses it, and `modelpack test` never starts Python.
@Suite struct CompressedPayloadTests {
    @Test func aCompressedPayloadIsRefusedEverywhere() throws {
        let tmp = TempDir()
        let payload = try Fixture.read(
            FailClosedTests.fixtures.appendingPathComponent("pickles/malicious/compressed_zlib_os_system.joblib").path)
        try Fixture.model(at: tmp.file("m"), extra: ["model.joblib": payload])
        for command in [
            ["validate", tmp.file("m")], ["build", tmp.file("m"), "-o", tmp.file("m.zip")],
            ["test", tmp.file("m"), "--python", "/nonexistent/python"],
        ] {
            let run = try CLI.run(command)
            #expect(run.status == ExitStatus.problems, "\(command): \(run.stderr)")
            #expect(
                (run.stdout + run.stderr).contains("error[MP501]: imports posix.system")
                    || (run.stdout + run.stderr).contains("error[MP501]: imports os.system"),
                "\(command): \(run.stdout)\(run.stderr)")
        }
        #expect(!FileSystem.exists(tmp.file("m.zip")))
        let scan = try CLI.run(["scan", "--format", "json", tmp.file("m/model.joblib")])
        #expect(scan.stdout.contains("\"compression\""), "\(scan.stdout)")
    }
}
