import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack card`: a golden card, its front matter and Markdown read back by real parsers, the
/// sections metadata.yaml fills, the bundle's signature, and the card in every build context.
@Suite struct CardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let sectionTitles = [
        "Model details", "Intended use", "Out-of-scope use", "Factors", "Evaluation data", "Training data",
        "Ethical considerations", "Caveats and recommendations", "Metrics", "Inputs and outputs", "Example request",
        "Provenance (modelpack)",
    ]

    @Test func theChurnCardMatchesItsGolden() throws {
        let result = try CLI.run(["card", "Examples/churn-sklearn"], cwd: Self.root.path)
        #expect(result.status == 0, "\(result.stderr)")
        try Golden.assert(result.stdout, "card/churn.md")
    }

    /// The front matter is YAML (our reader and PyYAML agree) and the body is CommonMark with
    /// tables (markdown-it-py): the sections are there, in order, and every table parses.
    @Test func theCardReadsBackWithAYAMLAndACommonMarkParser() throws {
        let dir = TempDir()
        try Fixture.model(
            at: dir.file("m"),
            extra: [
                "metadata.yaml": Array(
                    (Fixture.metadata + """
                        task: regression
                        tags: [tabular, "needs: quoting"]
                        metrics: {rmse: 0.25, r2: 0.9}
                        card:
                          intended_use: |
                            Pricing | estimates for the shop's own catalogue.
                          caveats: Not for items over 10 kg.

                        """).utf8),
                "w.bin": [1, 2, 3],
            ])
        let card = try Operations.card(dir.file("m"), context: .test).markdown
        let parts = card.components(separatedBy: "---\n")
        try #require(parts.count >= 3 && parts[0].isEmpty)
        let front = try #require(try YAMLReader.parse(Array(parts[1].utf8), limits: YAMLLimits()))
        #expect(front["license"]?.scalar == "mit")
        #expect(front["library_name"]?.scalar == "sklearn")
        #expect(
            front["tags"]?.sequenceItems?.compactMap(\.scalar) == [
                "modelpack", "regression", "tabular", "needs: quoting",
            ])
        let metrics = front["model-index"]?.sequenceItems?.first?["results"]?.sequenceItems?.first?["metrics"]
        #expect(metrics?.sequenceItems?.compactMap { $0["type"]?.scalar } == ["rmse", "r2"])
        #expect(card.contains("## Intended use\n\nPricing | estimates for the shop's own catalogue.\n"))
        #expect(card.contains("## Caveats and recommendations\n\nNot for items over 10 kg.\n"))
        #expect(card.contains("## Factors\n\nNot provided.\n"))
        guard PythonOracle.available(["yaml", "markdown_it"]) else {
            if PythonOracle.required { Issue.record("pyyaml or markdown-it-py is not installed") }
            return
        }
        try Fixture.write(Array(card.utf8), to: dir.file("card.md"))
        let script = dir.file("read.py")
        try Fixture.write(
            Array(
                """
                import json, sys, yaml
                from markdown_it import MarkdownIt
                text = open(sys.argv[1]).read()
                _, front, body = text.split("---\\n", 2)
                meta = yaml.safe_load(front)
                tokens = MarkdownIt("commonmark").enable("table").parse(body)
                headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
                tables = sum(1 for t in tokens if t.type == "table_open")
                rows = sum(1 for t in tokens if t.type == "tr_open")
                fences = [t.info for t in tokens if t.type == "fence"]
                print(json.dumps({"meta": meta, "headings": headings, "tables": tables, "rows": rows, "fences": fences}))
                """.utf8), to: script)
        let (status, output) = try PythonOracle.run(script, [dir.file("card.md")])
        try #require(status == 0, "\(output)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let meta = try #require(read["meta"] as? [String: Any])
        #expect(meta["license"] as? String == "mit" && (meta["tags"] as? [String])?.last == "needs: quoting")
        let index = try #require((meta["model-index"] as? [[String: Any]])?.first)
        let result = try #require((index["results"] as? [[String: Any]])?.first)
        #expect((result["metrics"] as? [[String: Any]])?.compactMap { $0["value"] as? Double } == [0.25, 0.9])
        #expect(read["headings"] as? [String] == ["test-model 0.1.0"] + Self.sectionTitles + ["Environment"])
        // Model details, metrics, inputs and outputs, files, artifacts: five tables; the pipe in the
        // intended use stays text.
        #expect(read["tables"] as? Int == 5, "\(output)")
        // No example in this metadata: no curl block, and the card says so.
        #expect(read["fences"] as? [String] == [""])
        #expect(card.contains("Not provided (metadata.yaml has no `example`)."))
    }

    /// A bundle's card names its digest, container and signature; `-o` writes a file.
    @Test func aBundleCardNamesItsDigestAndSignature() throws {
        let dir = TempDir()
        try Fixture.model(at: dir.file("m"), extra: ["w.bin": [1, 2, 3]])
        let bundle = dir.file("m.zip")
        #expect(try CLI.run(["build", dir.file("m"), "-o", bundle]).status == 0)
        let digest = try BundleReader.inspect(bundle, limits: UnpackLimits()).digest
        let unsigned = try Operations.card(bundle, context: .test).markdown
        #expect(unsigned.contains("- Bundle digest: `\(digest)`\n- Container: zip"))
        #expect(unsigned.contains("- Signature: none (no BUNDLE.sig)"))
        // The directory's card gives the digest the build produced.
        #expect(
            try Operations.card(dir.file("m"), context: .test).markdown.contains(
                "- Bundle digest: `\(digest)` (of the bundle"))
        #expect(try CLI.run(["keygen", "-o", dir.file("k")]).status == 0)
        #expect(try CLI.run(["sign", bundle, "--key", dir.file("k")]).status == 0)
        let out = dir.file("CARD.md")
        let written = try CLI.run(["card", bundle, "-o", out])
        #expect(written.status == 0, "\(written.stderr)")
        let keyID = try SigningKeys.loadPublic(dir.file("k.pub")).keyID
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("- Signature: BUNDLE.sig by key \(keyID)"))
        let badDir = try CLI.run(["card", bundle, "-o", dir.file("nowhere/CARD.md")])
        #expect(badDir.status == 3 && badDir.stderr.contains("the output's directory does not exist"))
    }

    /// Every build context carries the card, which the image serves at GET /card.
    @Test func theBuildContextCarriesTheCard() throws {
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        #expect(
            try CLI.run(["build", Self.root.appendingPathComponent("Examples/iris-sklearn").path, "-o", bundle]).status
                == 0)
        let context = try CLI.run(["dockerfile", bundle, "-o", dir.file("ctx")])
        #expect(context.status == 0, "\(context.stderr)")
        let card = try String(contentsOfFile: dir.file("ctx/runtime/card.md"), encoding: .utf8)
        #expect(card == (try Operations.card(bundle, context: .test).markdown))
        #expect(card.hasPrefix("---\nlicense: bsd-3-clause\n"))
    }

    /// The card section of metadata.yaml is checked like the rest.
    @Test func theCardFieldsAreChecked() throws {
        for (yaml, code) in [
            ("card: {intended_uses: x}\n", "MP106"), ("card: {caveats: [a, b]}\n", "MP105"),
            ("card: text\n", "MP105"),
        ] {
            let dir = TempDir()
            try Fixture.model(at: dir.file("m"), extra: ["metadata.yaml": Array((Fixture.metadata + yaml).utf8)])
            let codes = try ModelCheck.check(dir.file("m"), context: .test).report.diagnostics.map(\.code.rawValue)
            #expect(codes.contains(code), "\(yaml): \(codes)")
        }
    }
}
