import Foundation
import Testing

@testable import ModelPackCore

/// The PEP 508 parser against `packaging`, the reference implementation: for every line of
/// Fixtures/requirements/pep508-corpus.txt, the same accept/reject decision, the same normalised
/// name, extras and specifiers, the same URL and the same normalised marker as recorded in
/// pep508-expected.json by Fixtures/requirements/oracle.py.
@Suite struct RequirementsOracleTests {
    struct Case: Decodable {
        let line: String
        let valid: Bool
        let name: String?
        let extras: [String]?
        let specifiers: [String]?
        let url: String?
        let marker: String?
    }

    struct Expected: Decodable {
        let packaging: String
        let cases: [Case]
    }

    static func load() throws -> Expected {
        let url = try #require(
            Bundle.module.url(forResource: "Fixtures/requirements/pep508-expected", withExtension: "json"))
        return try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
    }

    @Test func everyCorpusLineAgreesWithPackaging() throws {
        let expected = try Self.load()
        #expect(expected.cases.count >= 200)
        var disagreements: [String] = []
        for c in expected.cases {
            switch PEP508Parser.parse(c.line) {
            case .failure(let error):
                if c.valid { disagreements.append("rejected valid \(c.line.debugDescription): \(error.message)") }
            case .success(let r):
                guard c.valid else {
                    disagreements.append("accepted invalid \(c.line.debugDescription)")
                    continue
                }
                let mine = (
                    r.canonicalName, r.extras.map(Requirement.canonicalize).sorted(),
                    r.specifiers.map(\.description).sorted(), r.url, r.marker
                )
                if mine.0 != c.name || mine.1 != c.extras! || mine.2 != c.specifiers! || mine.3 != c.url
                    || mine.4 != c.marker
                {
                    disagreements.append(
                        "\(c.line.debugDescription): mine \(mine), packaging \((c.name, c.extras, c.specifiers, c.url, c.marker))"
                    )
                }
            }
        }
        #expect(
            disagreements.isEmpty,
            "\(disagreements.count) of \(expected.cases.count) lines differ from packaging \(expected.packaging):\n\(disagreements.joined(separator: "\n"))"
        )
    }
}
