import Foundation
import Testing

@testable import ModelPackCore

@Suite struct ValidationTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples")

    @Test(arguments: ["iris-sklearn", "churn-sklearn", "wine-onnx", "diabetes-lightgbm", "digits-safetensors"])
    func theExamplesAreClean(_ name: String) throws {
        let report = try ModelCheck.check(Self.examples.appendingPathComponent(name).path, context: .test).report
        #expect(report.diagnostics.isEmpty, "\(report.text(colour: false))")
    }

    @Test func aBundleIsValidatedWithoutUnpacking() throws {
        let tmp = TempDir()
        var raw = RawBundle(format: .zip)
        raw.addHonest([
            ("interface.py", Array(Fixture.interface.utf8)),
            ("metadata.yaml", Array("name: x\nversion: 1\nname: y\n".utf8)),
            ("requirements.txt", Array(Fixture.requirements.utf8)),
        ])
        try raw.write(to: tmp.file("b.zip"))
        let report = try ModelCheck.check(tmp.file("b.zip"), context: .test).report
        let duplicate = try #require(report.diagnostics.first { $0.code == .yamlDuplicateKey })
        #expect(duplicate.line == 3 && duplicate.column == 1)
        #expect(report.text(colour: false).contains(tmp.file("b.zip") + "!/metadata.yaml:3:1: error[MP102]"))
        #expect(tmp.contents() == ["b.zip"])

        let cli = try CLI.run(["validate", tmp.file("b.zip"), "--format", "json"])
        #expect(cli.status == ExitStatus.problems)
        #expect(cli.stdout.contains("\"code\" : \"MP102\""))
    }

    @Test func aDamagedBundleIsRefusedNotValidated() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(5000)])
        _ = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: tmp.file("m.tar"), format: .tar), context: .test)
        var bytes = try Fixture.read(tmp.file("m.tar"))
        bytes[try #require(find(Fixture.noise(5000), in: bytes)) + 10] ^= 1
        try Fixture.write(bytes, to: tmp.file("m.tar"))
        #expect(throws: ModelPackError.self) { try ModelCheck.check(tmp.file("m.tar"), context: .test).report }
    }

    func validate(_ files: [String: String]) throws -> DiagnosticReport {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1]])
        for (path, text) in files { try Fixture.write(Array(text.utf8), to: tmp.file("m/" + path)) }
        return try ModelCheck.check(tmp.file("m"), context: .test).report
    }

    /// resources.batch_size (the rows per predict() call of batch runs) is a whole number of rows.
    @Test func batchSizeIsAWholeNumberOfRows() throws {
        for (value, ok) in [("512", true), ("1000000", true), ("0", false), ("1000001", false), ("'64'", false)] {
            let report = try validate([
                "metadata.yaml": Fixture.metadata + "resources: {cpu: 1, batch_size: \(value)}\n"
            ])
            let refused = report.diagnostics.contains { $0.message.contains("resources.batch_size must be") }
            #expect(refused == !ok, "\(value): \(report.text(colour: false))")
        }
    }

    @Test func continuationLinesReportPhysicalPositions() throws {
        let report = try validate([
            "requirements.txt": "scikit-learn==1.9.1 \\\n    --hash=sha256:" + String(repeating: "0", count: 64)
                + "\nnumpy\\\n==2.0 ; python_version <\\\n \"3.8\" ;\n"
        ])
        let syntax = try #require(
            report.diagnostics.first { $0.code == .requirementSyntax }, "\(report.text(colour: false))")
        #expect(syntax.line == 5 && syntax.column == 8)  // the second ";", on the fifth physical line
    }

    @Test func includesStayInsideTheModelAndReportInTheirOwnFile() throws {
        let report = try validate([
            "requirements.txt":
                "scikit-learn==1.9.1\n-r extra/more.txt\n--requirement=../outside.txt\n-r missing.txt\n",
            "extra/more.txt": "# more\npandas\n-r ../requirements.txt\n",
        ])
        let unpinned = try #require(report.diagnostics.first { $0.code == .unpinned })
        #expect(unpinned.file == "extra/more.txt" && unpinned.line == 2 && unpinned.column == 1)
        let includes = report.diagnostics.filter { $0.code == .badInclude }.map(\.message)
        #expect(includes.contains { $0.contains("points outside the model directory") })
        #expect(includes.contains { $0.contains("does not exist") })
        #expect(includes.contains { $0.contains("includes itself") })
    }

    @Test func hashesAreCheckedAndRequireHashesIsHonoured() throws {
        let bad = try validate(["requirements.txt": "scikit-learn==1.9.1 --hash=md5:abc\n"])
        #expect(bad.diagnostics.contains { $0.code == .requirementSyntax && $0.column == 21 })
        let required = try validate(["requirements.txt": "--require-hashes\nscikit-learn==1.9.1\n"])
        #expect(required.diagnostics.contains { $0.code == .partialHashes && $0.line == 2 })
    }

    @Test func optionsAreKeptWarnedOrRefused() throws {
        let report = try validate([
            "requirements.txt": """
            --index-url https://pypi.internal/simple
            --trusted-host pypi.internal
            --pre
            -f ./wheels
            --use-feature=fast-deps
            scikit-learn==1.9.1

            """
        ])
        let byLine = Dictionary(grouping: report.diagnostics.filter { $0.code == .pipOption }, by: { $0.line ?? 0 })
        #expect(byLine[1]?.first?.severity == .warning)
        #expect(byLine[2]?.first?.severity == .warning)
        #expect(byLine[3]?.first?.severity == .note)
        #expect(byLine[4]?.first?.severity == .warning)
        #expect(byLine[5]?.first?.severity == .error)
    }

    @Test func frameworkPinMayBeAnyExactSpelling() throws {
        let ok = try validate(["requirements.txt": "Scikit_Learn == 1.9.1\n"])
        #expect(!ok.diagnostics.contains { $0.code == .frameworkMissing || $0.code == .frameworkVersion })
    }

    /// xgboost-cpu (xgboost's CPU-only wheel, without the CUDA libraries) provides xgboost; numpy
    /// and safetensors name the framework of a model whose forward pass is interface.py's own.
    @Test(arguments: [
        ("xgboost", "3.2.0", "xgboost-cpu==3.2.0\n"), ("numpy", "2.4.6", "numpy==2.4.6\n"),
        ("safetensors", "0.8.0", "safetensors==0.8.0\nnumpy==2.4.6\n"),
    ])
    func frameworksProvidedUnderAnotherName(_ framework: String, _ version: String, _ requirements: String) throws {
        let metadata = Fixture.metadata.replacingOccurrences(
            of: "framework: {name: scikit-learn, version: 1.9.1}",
            with: "framework: {name: \(framework), version: \(version)}")
        let ok = try validate(["metadata.yaml": metadata, "requirements.txt": requirements])
        #expect(ok.diagnostics.isEmpty, "\(ok.text(colour: false))")
        let wrong = try validate(["metadata.yaml": metadata, "requirements.txt": "scikit-learn==1.9.1\n"])
        #expect(wrong.diagnostics.contains { $0.code == .frameworkMissing }, "\(wrong.text(colour: false))")
    }
}

@Suite struct InterfaceCheckTests {
    func check(_ source: String) -> [Diagnostic] {
        var collector = DiagnosticCollector()
        InterfaceCheck.check(source, into: &collector, python: nil)  // the static check alone
        return collector.diagnostics
    }

    @Test func definitionsInStringsAndCommentsDoNotCount() {
        let source = """
            '''
            def load_model():
                pass
            '''
            # def load_model(): in a comment
            x = "def load_model(): in a string"
            s = f'''{x}
            class Fake:
                def predict(self, rows): ...
            '''
            """
        let codes = check(source).map(\.code)
        #expect(codes.contains(.noLoadModel))
        #expect(codes.contains(.noPredict))
    }

    @Test func theUsualShapesAreAccepted() {
        #expect(
            check(
                """
                import joblib
                from pathlib import Path


                class Model(object):
                    \"\"\"Wraps the estimator.\"\"\"

                    def __init__(self, est):
                        self.est = est

                    @staticmethod
                    def predict(rows):
                        return [r for r in (rows or [])]


                async def load_model(path: str = "model.joblib",
                                     *, device=None) -> Model:
                    return Model(joblib.load(Path(__file__).parent / path))
                """
            ).isEmpty)
        #expect(check("from .impl import load_model, Model\nclass M:\n    def predict(self, x): return x\n").isEmpty)
        #expect(check("load_model = lambda: M()\nclass M:\n    def predict(self, *args): return args\n").isEmpty)
    }

    @Test func nestedLoadModelIsNamed() throws {
        let d = check("if True:\n    def load_model():\n        pass\nclass M:\n    def predict(self, x): return x\n")
        let found = try #require(d.first { $0.code == .noLoadModel })
        #expect(found.line == 2 && found.message.contains("not at the top level"))
    }

    @Test func aPredictOnANestedFunctionIsNotAMethod() {
        let d = check("def load_model():\n    class M:\n        def predict(self, x): return x\n    return M()\n")
        #expect(d.map(\.code) == [.noPredict])
    }

    @Test func tokenizerErrorsHaveTheirPosition() throws {
        let unterminated = try #require(check("def load_model():\n    return '''oops\n").first)
        #expect(unterminated.code == .pythonSyntax && unterminated.line == 2 && unterminated.column == 12)
        let unclosed = try #require(check("def load_model(:\n    pass\nx = (1,\n").first)
        #expect(unclosed.code == .pythonSyntax)
    }

    @Test(.enabled(if: PythonCompiler.find() != nil))
    func pythonReportsSyntaxErrorsAtTheirLine() throws {
        var collector = DiagnosticCollector()
        InterfaceCheck.check("def load_model():\n    return 1 +\n", into: &collector, python: PythonCompiler.find())
        let d = try #require(collector.diagnostics.first)
        #expect(d.code == .pythonSyntax && d.line == 2)
    }
}

@Suite struct ValidateCLITests {
    @Test func formatsExitCodesAndStrict() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))  // no artifact: one warning (MP404)
        let text = try CLI.run(["validate", tmp.file("m")])
        #expect(text.status == 0)
        #expect(text.stdout.contains("warning[MP404]"))
        #expect(!text.stdout.contains("\u{1B}["))  // not a terminal: no colour
        #expect(try CLI.run(["validate", tmp.file("m"), "--strict"]).status == ExitStatus.problems)
        let sarif = try CLI.run(["validate", tmp.file("m"), "--format", "sarif"])
        #expect(sarif.stdout.contains("\"version\" : \"2.1.0\""))
        #expect(try CLI.run(["validate", tmp.file("m"), "--format", "xml"]).status == ExitStatus.usage)

        let strictBuild = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--strict"])
        #expect(strictBuild.status == ExitStatus.problems)
        #expect(strictBuild.stderr.contains("warning[MP404]"))
        #expect(!FileSystem.exists(tmp.file("m.zip")))
        let build = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(build.status == 0)
        #expect(build.stderr.contains("warning[MP404]"))
    }

    @Test func buildOnAnInvalidDirectoryShowsTheSameDiagnosticsAsValidate() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["requirements.txt": Array("scikit-learn>=1\n-e .\n".utf8)])
        let validate = try CLI.run(["validate", tmp.file("m")])
        let build = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(validate.status == ExitStatus.problems && build.status == ExitStatus.problems)
        #expect(build.stderr.hasPrefix(validate.stdout))
        #expect(tmp.contents() == ["m"])
    }
}

/// Colour on a terminal, and never with NO_COLOR: run under `script`, which gives the CLI a pty.
@Suite struct ColourTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func colourOnATerminalUnlessNoColor() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))  // one warning (MP404) to render
        func onTerminal(_ environment: [String: String]) throws -> String {
            let command = "'\(CLI.binary)' validate '\(tmp.file("m"))'"
            return try CLI.run(["-qec", command, "/dev/null"], environment: environment, executable: "/usr/bin/script")
                .stdout
        }
        #expect(try onTerminal(["NO_COLOR": ""]).contains("\u{1B}[1;33mwarning[MP404]"))
        let plain = try onTerminal(["NO_COLOR": "1"])
        #expect(plain.contains("warning[MP404]") && !plain.contains("\u{1B}["))
    }
}
