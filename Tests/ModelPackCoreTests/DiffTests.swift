import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack diff`: every kind of change, its exit status, and its text and JSON as goldens.
@Suite struct DiffTests {
    static let before = """
        name: shop-model
        version: 1.0.0
        description: Scores baskets.
        license: MIT
        authors: [modelpack tests]
        framework: {name: scikit-learn, version: 1.9.1}
        inputs:
          - {name: amount, type: float}
          - {name: channel, type: categorical, categories: [web, store]}
          - {name: items, type: int}
        outputs:
          - {name: score, type: float}
          - {name: band, type: categorical, categories: [low, high]}
        example:
          - {amount: 10.5, channel: web, items: 2}

        """

    /// Every kind of change at once: files, fields, requirements up, down, added and removed,
    /// and compatible and incompatible schema changes.
    static let after = """
        name: shop-model
        version: 1.1.0
        description: Scores baskets.
        license: Apache-2.0
        authors: [modelpack tests]
        framework: {name: scikit-learn, version: 1.9.1}
        inputs:
          - {name: channel, type: categorical, categories: [web, store, phone]}
          - {name: amount, type: float}
          - {name: coupon, type: bool}
        outputs:
          - {name: score, type: int}
          - {name: band, type: categorical, categories: [low]}
          - {name: reason, type: string}
        example:
          - {amount: 10.5, channel: phone, coupon: true}

        """

    static func models(_ dir: TempDir) throws {
        try Fixture.model(
            at: dir.file("before"),
            extra: [
                "metadata.yaml": Array(before.utf8),
                "requirements.txt": Array("scikit-learn==1.9.1\nnumpy==2.4.6\nscipy==1.17.1\njoblib==1.6.0\n".utf8),
                "weights.bin": Fixture.noise(3000), "old.txt": Array("gone\n".utf8),
            ])
        try Fixture.model(
            at: dir.file("after"),
            extra: [
                "metadata.yaml": Array(after.utf8),
                "requirements.txt": Array("scikit-learn==1.9.1\nnumpy==2.4.2\nscipy==1.18.0\npandas==3.0.1\n".utf8),
                "weights.bin": Fixture.noise(3000), "new.txt": Array("new\n".utf8),
            ])
    }

    @Test func everyKindOfChangeAsTextAndJSON() throws {
        let dir = TempDir()
        try Self.models(dir)
        let text = try CLI.run(["diff", "before", "after"], cwd: dir.path)
        #expect(text.status == 1, "\(text.stderr)")
        try Golden.assert(text.stdout, "diff/changes.txt")
        let json = try CLI.run(["diff", "before", "after", "--format", "json"], cwd: dir.path)
        #expect(json.status == 1)
        try Golden.assert(json.stdout, "diff/changes.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["same"] as? Bool == false && document["incompatible"] as? Bool == true)
        let requirements = try #require(document["requirements"] as? [[String: Any]])
        let kinds = Dictionary(
            uniqueKeysWithValues: requirements.map { ($0["name"] as! String, $0["change"] as! String) })
        #expect(kinds == ["numpy": "downgraded", "scipy": "upgraded", "pandas": "added", "joblib": "removed"])
        let schema = try #require(document["ioSchema"] as? [[String: Any]])
        let verdict = Dictionary(
            uniqueKeysWithValues: schema.map {
                ("\($0["side"]!).\($0["name"]!) \($0["change"]!)", $0["compatible"] as! Bool)
            })
        #expect(
            verdict == [
                "inputs.items removed": false, "inputs.coupon added": false,
                "inputs.channel categories added": true, "inputs.(order) reordered": false,
                "outputs.score type": false, "outputs.band categories removed": true, "outputs.reason added": true,
            ])
        // Absent values are null, never a missing key.
        let files = try #require(document["files"] as? [[String: Any]])
        let added = try #require(files.first { $0["change"] as? String == "added" })
        #expect(added.keys.contains("before") && added["before"] is NSNull)
    }

    /// A directory and the bundle built from it are the same model: same digest, exit 0.
    @Test func aDirectoryAndItsBundleAreTheSame() throws {
        let dir = TempDir()
        try Self.models(dir)
        let build = try CLI.run(["build", "before", "-o", "before.tar.gz"], cwd: dir.path)
        try #require(build.status == 0, "\(build.stderr)")
        let same = try CLI.run(["diff", "before.tar.gz", "before", "--format", "json"], cwd: dir.path)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any])
        #expect(document["same"] as? Bool == true)
        #expect(document["beforeDigest"] as? String == document["afterDigest"] as? String)
        #expect(
            document["beforeDigest"] as? String
                == (try BundleReader.inspect(dir.file("before.tar.gz"), limits: UnpackLimits()).digest))
        let text = try CLI.run(["diff", "before", "before.tar.gz"], cwd: dir.path)
        #expect(text.status == 0 && text.stdout.contains("same: "))
    }

    /// A pickle that turns dangerous between versions shows as a verdict change.
    @Test func anAuditVerdictThatChangesIsReported() throws {
        let dir = TempDir()
        try Fixture.model(at: dir.file("a"), extra: ["model.pkl": [0x80, 0x04, 0x4b, 0x01, 0x2e]])
        // GLOBAL os system, then REDUCE: loading it runs a command.
        var evil: [UInt8] = [0x80, 0x02, 0x63]
        evil += Array("os\nsystem\n".utf8) + [0x58, 0x02, 0, 0, 0] + Array("id".utf8) + [0x85, 0x52, 0x2e]
        try Fixture.model(at: dir.file("b"), extra: ["model.pkl": evil])
        let diff = try Operations.diff(dir.file("a"), dir.file("b"), context: .test)
        #expect(diff.verdicts == [ModelDiff.VerdictChange(path: "model.pkl", before: .safe, after: .dangerous)])
        #expect(!diff.same)
    }

    /// The same metadata over another model: what the artifact records (columns, categories,
    /// classes) changed, and diff says so, as incompatible, though metadata.yaml did not change.
    @Test func whatAnArtifactRecordsIsPartOfTheContract() throws {
        let dir = TempDir()
        let fruit = try Fixture.read(DiagnosticCodeTests.fruit)
        let other = try Fixture.read(EstimatorFactsTests.initDir.appendingPathComponent("wide_linear.joblib").path)
        try Fixture.model(at: dir.file("a"), extra: ["model.joblib": fruit])
        try Fixture.model(at: dir.file("b"), extra: ["model.joblib": other])
        let diff = try Operations.diff(dir.file("a"), dir.file("b"), context: .test)
        let names = diff.schema.filter { $0.side == "artifact" }.map(\.name)
        #expect(names.contains("model.joblib: columns") && names.contains("model.joblib: classes"), "\(names)")
        #expect(names.contains("model.joblib: categories of colour"), "\(names)")
        #expect(diff.incompatible && diff.metadata.isEmpty)
        // The same model on both sides: nothing of the kind.
        let same = try Operations.diff(dir.file("a"), dir.file("a"), context: .test)
        #expect(same.schema.isEmpty && same.same)
    }

    @Test func aMissingSideIsOneLine() throws {
        let dir = TempDir()
        try Self.models(dir)
        let missing = try CLI.run(["diff", "before", "nothing"], cwd: dir.path)
        #expect(
            missing.status == 1 && missing.stderr == "error: nothing: no such file or directory\n", "\(missing.stderr)")
        #expect(missing.stdout.isEmpty)
    }
}
