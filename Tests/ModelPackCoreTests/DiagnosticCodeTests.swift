import Foundation
import Testing

@testable import ModelPackCore

/// For every diagnostic code, a model that triggers it, and where it must be reported.
@Suite struct DiagnosticCodeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let code: DiagnosticCode
        /// Files replacing the valid fixture's (nil deletes the file).
        let files: [String: String?]
        let file: String
        let line: Int?
        let column: Int?
        /// Binary files copied in: path in the model → fixture file.
        var copies: [String: String] = [:]
        var testDescription: String { code.rawValue }

        /// Writes the valid fixture with this case's files on top; returns the model directory.
        func materialize(in tmp: TempDir) throws -> String {
            try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
            for (path, content) in files {
                if let content {
                    // MP002 needs bytes that are not UTF-8, which a Swift string cannot hold.
                    let bytes = code == .unreadableFile ? [0x78, 0x20, 0xff, 0xfe] : Array(content.utf8)
                    try Fixture.write(bytes, to: tmp.file("m/" + path))
                } else {
                    unlink(tmp.file("m/" + path))
                }
            }
            for (path, fixture) in copies { try Fixture.write(try Fixture.read(fixture), to: tmp.file("m/" + path)) }
            return tmp.file("m")
        }
    }

    static let validMetadata = Fixture.metadata
    static func metadata(replacing old: String, with new: String) -> String {
        precondition(validMetadata.contains(old), old)
        return validMetadata.replacingOccurrences(of: old, with: new)
    }

    static let fruit = PickleScannerTests.root.appendingPathComponent(
        "Tests/ModelPackCoreTests/Fixtures/init/fruit_pipeline.joblib"
    ).path

    static let cases: [Case] = [
        Case(code: .requiredFileMissing, files: ["interface.py": nil], file: "interface.py", line: nil, column: nil),
        Case(
            code: .unreadableFile, files: ["interface.py": "x = '\u{FFFD}'"], file: "interface.py", line: nil,
            column: nil),
        Case(
            code: .yamlSyntax, files: ["metadata.yaml": "name: [x\nversion: 1\n"], file: "metadata.yaml", line: 2,
            column: 8),
        Case(
            code: .yamlDuplicateKey, files: ["metadata.yaml": validMetadata + "license: MIT\n"], file: "metadata.yaml",
            line: 11, column: 1),
        Case(
            code: .yamlLimit,
            files: ["metadata.yaml": String(repeating: "[", count: 80) + String(repeating: "]", count: 80)],
            file: "metadata.yaml", line: 1, column: 65),
        Case(
            code: .missingField,
            files: ["metadata.yaml": metadata(replacing: "outputs:\n  - {name: y, type: float}\n", with: "")],
            file: "metadata.yaml", line: 1, column: 1),
        Case(
            code: .wrongType, files: ["metadata.yaml": metadata(replacing: "license: MIT", with: "license: [MIT]")],
            file: "metadata.yaml", line: 4, column: 10),
        Case(
            code: .unknownKey, files: ["metadata.yaml": validMetadata + "licence: MIT\n"], file: "metadata.yaml",
            line: 11, column: 1),
        Case(
            code: .invalidName,
            files: ["metadata.yaml": metadata(replacing: "name: test-model", with: "name: Test Model")],
            file: "metadata.yaml", line: 1, column: 7),
        Case(
            code: .invalidVersion,
            files: ["metadata.yaml": metadata(replacing: "version: 0.1.0", with: "version: one")],
            file: "metadata.yaml", line: 2, column: 10),
        Case(
            code: .invalidValue,
            files: ["metadata.yaml": metadata(replacing: "{name: x, type: float}", with: "{name: x, type: floaty}")],
            file: "metadata.yaml", line: 8, column: 21),
        Case(
            code: .invalidSignature,
            files: [
                "metadata.yaml": metadata(replacing: "{name: y, type: float}", with: "{name: y, type: categorical}")
            ],
            file: "metadata.yaml", line: 10, column: 21),
        Case(
            code: .exampleMismatch, files: ["metadata.yaml": validMetadata + "example:\n  - {x: high}\n"],
            file: "metadata.yaml", line: 12, column: 9),
        Case(
            code: .unknownFramework, files: ["metadata.yaml": validMetadata + "task: clasification\n"],
            file: "metadata.yaml", line: 11, column: 7),
        Case(
            code: .recommendedField, files: ["metadata.yaml": metadata(replacing: "license: MIT\n", with: "")],
            file: "metadata.yaml", line: nil, column: nil),
        Case(
            code: .artifactMismatch,
            files: [
                "metadata.yaml": metadata(
                    replacing: "  - {name: x, type: float}\n",
                    with: "  - {name: colour, type: categorical, categories: [green, yellow, red]}\n"
                        + "  - {name: length, type: float}\n  - {name: weight_g, type: float}\n"),
                "requirements.txt": "scikit-learn==1.9.1\nnumpy==2.4.6\npandas==3.1.1\njoblib==1.6.0\n",
            ], file: "metadata.yaml", line: 9, column: 5, copies: ["model.joblib": fruit]),
        Case(
            code: .requirementSyntax, files: ["requirements.txt": "scikit-learn==1.9.1\nnumpy=2.0\n"],
            file: "requirements.txt",
            line: 2, column: 6),
        Case(
            code: .unpinned, files: ["requirements.txt": "scikit-learn==1.9.1\n  pandas  # for the frame\n"],
            file: "requirements.txt", line: 2, column: 3),
        Case(
            code: .looselyPinned, files: ["requirements.txt": "scikit-learn==1.9.1\nnumpy >=1.26\n"],
            file: "requirements.txt",
            line: 2, column: 7),
        Case(
            code: .duplicateRequirement,
            files: ["requirements.txt": "scikit-learn==1.9.1\nnumpy==2.0.0\nNumPy==2.0.0\n"],
            file: "requirements.txt", line: 3, column: 1),
        Case(
            code: .contradiction, files: ["requirements.txt": "scikit-learn==1.9.1\nnumpy>=2,<1.5\n"],
            file: "requirements.txt",
            line: 2, column: 6),
        Case(
            code: .editable, files: ["requirements.txt": "scikit-learn==1.9.1\n-e ./lib\n"], file: "requirements.txt",
            line: 2, column: 1),
        Case(
            code: .pipOption, files: ["requirements.txt": "--frobnicate\nscikit-learn==1.9.1\n"],
            file: "requirements.txt",
            line: 1, column: 1),
        Case(
            code: .badInclude, files: ["requirements.txt": "scikit-learn==1.9.1\n-r ../shared.txt\n"],
            file: "requirements.txt",
            line: 2, column: 1),
        Case(
            code: .frameworkMissing, files: ["requirements.txt": "numpy==2.0.0\n"], file: "metadata.yaml", line: 6,
            column: 19),
        Case(
            code: .frameworkVersion, files: ["requirements.txt": "scikit-learn==1.5.2\n"], file: "requirements.txt",
            line: 1, column: 13),
        Case(
            code: .directReference,
            files: ["requirements.txt": "scikit-learn==1.9.1\nmylib @ https://example.com/mylib-1.0.tar.gz\n"],
            file: "requirements.txt", line: 2, column: 1),
        Case(
            code: .partialHashes,
            files: [
                "requirements.txt": "scikit-learn==1.9.1 --hash=sha256:" + String(repeating: "a", count: 64)
                    + "\nnumpy==2.0.0\n"
            ], file: "requirements.txt", line: 2, column: 1),
        Case(
            code: .noLoadModel,
            files: [
                "interface.py":
                    "class M:\n    def predict(self, x):\n        return x\n\n\ndef load_modle():\n    return M()\n"
            ],
            file: "interface.py", line: 6, column: 5),
        Case(
            code: .noPredict,
            files: [
                "interface.py":
                    "class M:\n    def predict_proba(self, x):\n        return x\n\n\ndef load_model():\n    return M()\n"
            ],
            file: "interface.py", line: 1, column: 1),
        Case(
            code: .predictSignature,
            files: [
                "interface.py":
                    "class M:\n    def predict(self):\n        return 1\n\n\ndef load_model():\n    return M()\n"
            ],
            file: "interface.py", line: 2, column: 9),
        Case(
            // Python and the static tokenizer report this one at the same place, with or without python3.
            code: .pythonSyntax, files: ["interface.py": "def load_model():\n    return '''oops\n"],
            file: "interface.py",
            line: 2, column: 12),
        Case(
            code: .loadModelSignature,
            files: [
                "interface.py": Fixture.interface.replacingOccurrences(
                    of: "def load_model():", with: "def load_model(path):")
            ],
            file: "interface.py", line: 6, column: 5),
        Case(
            code: .interfaceUnfinished,
            files: [
                "interface.py": Fixture.interface.replacingOccurrences(
                    of: "return [0.0 for _ in rows]", with: "raise NotImplementedError(\"the forward pass\")")
            ],
            file: "interface.py", line: 3, column: 9),
        Case(
            code: .artifactMissing, files: ["metadata.yaml": validMetadata + "artifacts: [model.binn]\n"],
            file: "metadata.yaml",
            line: 11, column: 13),
        Case(
            code: .artifactEmpty,
            files: ["metadata.yaml": validMetadata + "artifacts: [empty.bin]\n", "empty.bin": ""],
            file: "metadata.yaml", line: 11, column: 13),
        Case(
            code: .artifactOutside, files: ["metadata.yaml": validMetadata + "artifacts:\n  - ../weights.bin\n"],
            file: "metadata.yaml", line: 12, column: 5),
        Case(code: .noArtifacts, files: ["model.bin": nil], file: "metadata.yaml", line: nil, column: nil),
    ]

    @Test func everyCodeHasACase() {
        #expect(Set(Self.cases.map(\.code)) == Set(DiagnosticCode.allCases.filter { $0.isValidation }))
    }

    @Test func theFixtureItselfIsClean() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        let report = try ModelCheck.check(tmp.file("m"), context: .test).report
        #expect(report.diagnostics.isEmpty, "\(report.text(colour: false))")
    }

    @Test(arguments: cases)
    func codeIsReportedAtItsPlace(_ c: Case) throws {
        let tmp = TempDir()
        let report = try ModelCheck.check(try c.materialize(in: tmp), context: .test).report
        let found = report.diagnostics.filter { $0.code == c.code }
        #expect(!found.isEmpty, "\(c.code.rawValue) not reported; got:\n\(report.text(colour: false))")
        let first = try #require(found.first)
        #expect(first.file == c.file)
        #expect(first.line == c.line)
        #expect(first.column == c.column)
        #expect(first.severity == c.code.severity || c.code == .pipOption || c.code == .artifactEmpty)
        #expect(report.fails(strict: true))
    }
}

/// Docs/DIAGNOSTICS.md is generated from the cases above: each code's example is what modelpack
/// really prints for that case. RECORD=1 rewrites it; otherwise it must be up to date.
@Suite struct DiagnosticsDocTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Docs/DIAGNOSTICS.md")

    static func render() throws -> String {
        var out = """
            # Diagnostics

            Every diagnostic of a model's own files (MP0xx to MP4xx). `validate`, `build`, `inspect`,
            `dockerfile` and `serve` run the same checks and print the same codes; the artifact audit's
            findings (MP5xx) and verify's (MP6xx) are in [AUDIT.md](AUDIT.md), `validate --resolve`'s
            (MP701) in [REQUIREMENTS.md](REQUIREMENTS.md#resolving-the-requirements-validate---resolve).
            Codes are stable: a code keeps its meaning, and a retired code is never reused. Errors fail
            `validate` and stop `build`; warnings fail only with `--strict`; notes never fail. This file is
            generated by `DiagnosticsDocTests` from the test case of each code (`RECORD=1 swift test --filter
            DiagnosticsDocTests`), so every example below is real output.

            | code | name | severity | meaning |
            | --- | --- | --- | --- |

            """
        for code in DiagnosticCode.allCases where code.isValidation {
            out +=
                "| [\(code.rawValue)](#\(code.rawValue.lowercased())) | \(code.title) | \(code.severity.rawValue) | \(code.summary) |\n"
        }
        for c in DiagnosticCodeTests.cases {
            let tmp = TempDir()
            let full = try ModelCheck.check(try c.materialize(in: tmp), context: .test).report
            let mine = try #require(full.diagnostics.first { $0.code == c.code })
            let report = DiagnosticReport(target: "model", isBundle: false, diagnostics: [mine], sources: full.sources)
            let text = report.text(colour: false).split(separator: "\n").dropLast().joined(separator: "\n")
            out += "\n## \(c.code.rawValue)\n\n**\(c.code.title)** (\(c.code.severity.rawValue)): \(c.code.summary)\n\n"
            if let extra = Self.notes[c.code] { out += extra + "\n\n" }
            out += "```\n\(text)\n```\n"
        }
        return out
    }

    /// What a code's one-line summary does not say.
    static let notes: [DiagnosticCode: String] = [
        .pipOption: """
        How each pip option is treated: `-i/--index-url`, `--extra-index-url`, `-f/--find-links`, \
        `--no-index` and `--trusted-host` are kept with a warning saying what they change; `--pre`, \
        `--prefer-binary`, `--only-binary` and `--no-binary` are kept with a note; `--require-hashes` is \
        kept and enforced (MP212); `-r`/`-c` are followed inside the model (MP208); `-e` is refused \
        (MP206); build options after a requirement (`--global-option`, `--config-settings`) are warned \
        about; any other option is an error.
        """,
        .artifactEmpty:
            "An artifact listed in `artifacts:` that is empty is an error; any other empty file is a warning, and an empty `.py` file (such as `__init__.py`) is fine.",
        .wrongType: "Also raised for an unquoted `python: 3.10`, which YAML reads as the number 3.1.",
        .yamlLimit:
            "The limits: 1 MiB of YAML, 64 levels of nesting, 100,000 nodes after alias expansion (so a \"billion laughs\" file fails at once); --max-yaml-size, --max-yaml-depth and --max-yaml-nodes raise them.",
        .pythonSyntax:
            "Found by compiling interface.py with `python3` (compile() only parses; nothing runs) when one is on PATH (`MODELPACK_PYTHON` names another, or disables it when empty); without Python, the static tokenizer still reports unterminated strings and brackets. The answer is remembered per source and interpreter in the cache directory (`MODELPACK_CACHE`, else `~/.cache/modelpack`), so checking the same interface.py again does not start Python.",
        .artifactMismatch: """
        Read from the artifacts without loading them (the facts `init` writes metadata from): a \
        scikit-learn, LightGBM or XGBoost pickle's columns, feature count, encoder categories and \
        classes, and an ONNX graph's inputs (names, element types, shapes after the batch). A \
        category the encoder never learned, a class listed that the model never predicts (or one it \
        predicts that is not listed), a renamed or mistyped column, a tensor input the graph does \
        not take: each names the line of metadata.yaml and the artifact. Columns that share no name \
        with the ones the model was fitted on are taken as interface.py's to translate, and not \
        compared by name.
        """,
        .contradiction:
            "Checked per package and environment marker: two different exact pins, an exact pin another clause excludes, or a lower bound above an upper bound.",
    ]

    // The examples are what modelpack prints with python3 present (MP304's message comes from Python).
    @Test(.enabled(if: PythonOracle.required || PythonCompiler.find() != nil))
    func docsAreUpToDate() throws {
        let rendered = try Self.render()
        if ProcessInfo.processInfo.environment["RECORD"] == "1" {
            try Data(rendered.utf8).write(to: Self.docs)
            Issue.record("RECORD=1: Docs/DIAGNOSTICS.md re-recorded; run again without RECORD")
            return
        }
        let current = String(decoding: (try? Data(contentsOf: Self.docs)) ?? Data(), as: UTF8.self)
        #expect(
            current == rendered, "Docs/DIAGNOSTICS.md is out of date: RECORD=1 swift test --filter DiagnosticsDocTests")
    }
}
