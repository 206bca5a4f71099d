import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack bom`: a CycloneDX 1.6 ML-BOM that cyclonedx-python-lib's strict validator accepts,
/// with every file and requirement of the model, the same bytes for the same model.
@Suite struct BOMTests {
    static let validator = Golden.fixtures.appendingPathComponent("bom/validate_bom.py").path

    static func validated(_ path: String) throws {
        guard PythonOracle.available(["cyclonedx.validation.json", "packageurl"]) else {
            if PythonOracle.required { Issue.record("cyclonedx-python-lib is not installed (make test-deps)") }
            return
        }
        let (status, output) = try PythonOracle.run(validator, [path])
        #expect(status == 0, "the CycloneDX validator refused \(path):\n\(output)")
    }

    @Test func theExampleBOMValidatesAndListsEverything() throws {
        let tmp = TempDir()
        let example = Golden.fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/iris-sklearn").path
        let bom = try CLI.run(["bom", example, "-o", tmp.file("iris.cdx.json")])
        #expect(bom.status == 0 && bom.stdout.contains("wrote the ML-BOM"), "\(bom)")
        try Self.validated(tmp.file("iris.cdx.json"))
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(try Fixture.read(tmp.file("iris.cdx.json")))) as? [String: Any])
        #expect(document["specVersion"] as? String == "1.6")
        let model = try #require((document["metadata"] as? [String: Any])?["component"] as? [String: Any])
        #expect(model["type"] as? String == "machine-learning-model" && model["name"] as? String == "iris-classifier")
        let files = (model["components"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(Set(files).isSuperset(of: ["interface.py", "metadata.yaml", "model.joblib", "requirements.txt"]))
        let card = try #require(model["modelCard"] as? [String: Any])
        #expect((card["modelParameters"] as? [String: Any])?["task"] as? String == "classification")
        let libraries = (document["components"] as? [[String: Any]] ?? []).compactMap { $0["purl"] as? String }
        #expect(libraries.contains { $0.hasPrefix("pkg:pypi/scikit-learn@") })
        #expect(libraries.contains { $0.hasPrefix("pkg:pypi/fastapi@") })  // the serving runtime's own

        // The same model, the same bytes; its bundle, the same BOM.
        let again = try CLI.run(["bom", example])
        #expect(again.stdout == String(decoding: try Fixture.read(tmp.file("iris.cdx.json")), as: UTF8.self))
        #expect(try CLI.run(["build", example, "-o", tmp.file("iris.tar")]).status == 0)
        #expect(try CLI.run(["bom", tmp.file("iris.tar")]).stdout == again.stdout)
    }

    @Test func unpinnedRequirementsAreMarkedAndTheAuditIsThere() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(1_000)])
        try Fixture.write(Array("numpy>=1.24\nscikit_learn==1.5.2\n".utf8), to: tmp.file("m/requirements.txt"))
        let bom = try CLI.run(["bom", tmp.file("m"), "-o", tmp.file("b.json")])
        #expect(bom.status == 0, "\(bom)")
        try Self.validated(tmp.file("b.json"))
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(try Fixture.read(tmp.file("b.json")))) as? [String: Any])
        let libraries = document["components"] as? [[String: Any]] ?? []
        let numpy = try #require(libraries.first { $0["name"] as? String == "numpy" })
        #expect(numpy["version"] == nil && numpy["purl"] as? String == "pkg:pypi/numpy")
        #expect(
            (numpy["properties"] as? [[String: Any]])?.contains {
                $0["name"] as? String == "modelpack:pinned" && $0["value"] as? String == "false"
            } == true)
        #expect(libraries.contains { $0["purl"] as? String == "pkg:pypi/scikit-learn@1.5.2" })
        let model = try #require((document["metadata"] as? [String: Any])?["component"] as? [String: Any])
        let properties = model["properties"] as? [[String: Any]] ?? []
        #expect(properties.contains { $0["name"] as? String == "modelpack:audit:verdict" })
        let json = try CLI.run(["bom", tmp.file("m"), "--format", "json"])
        let wrapped = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(wrapped["schema"] as? String == "modelpack.bom/1" && wrapped["bom"] is [String: Any])
    }
}
