import Testing

@testable import ModelPackCore

@Suite struct YAMLReaderTests {
    func parse(_ text: String, limits: YAMLLimits = YAMLLimits()) throws -> YAMLNode? {
        try YAMLReader.parse(Array(text.utf8), limits: limits)
    }

    @Test func keepsOneBasedMarksAndQuoting() throws {
        let root = try #require(try parse("name: iris\nversion: \"1.0\"\ninputs:\n  - name: a\n    type: float\n"))
        #expect(root["name"]?.scalar == "iris")
        #expect(root["name"]?.mark == SourceMark(line: 1, column: 7))
        guard case .scalar(_, let quoted) = root["version"]?.value else { Issue.record("not a scalar"); return }
        #expect(quoted)
        guard case .sequence(let items) = root["inputs"]?.value else { Issue.record("not a sequence"); return }
        #expect(items[0]["type"]?.mark == SourceMark(line: 5, column: 11))
    }

    @Test func refusesDuplicateKeysAtTheSecondOne() {
        #expect(
            throws: YAMLError(
                mark: SourceMark(line: 3, column: 3), message: "duplicate key 'b' (first defined at 2:3)",
                kind: .duplicateKey)
        ) {
            try parse("a:\n  b: 1\n  b: 2\n")
        }
    }

    @Test func syntaxErrorsCarryTheirPosition() throws {
        do {
            _ = try parse("a: [1, 2\nb: 3\n")
            Issue.record("accepted broken YAML")
        } catch let error as YAMLError {
            #expect(error.mark.line >= 1)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func billionLaughsFailsFast() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        #expect(throws: YAMLError.self) { try parse(text) }
        // A few aliases are fine.
        #expect(throws: Never.self) { try parse("base: &b {x: 1}\ncopy: *b\n") }
    }

    @Test func depthSizeAndDocumentCountAreBounded() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: YAMLError.self) { try parse(deep) }
        var small = YAMLLimits()
        small.maxBytes = 10
        #expect(throws: YAMLError.self) { try parse("name: something long\n", limits: small) }
        #expect(throws: YAMLError.self) { try parse("a: 1\n---\nb: 2\n") }
    }

    @Test func emptyDocumentIsNil() throws {
        #expect(try parse("") == nil)
        #expect(try parse("# only a comment\n") == nil)
    }
}
