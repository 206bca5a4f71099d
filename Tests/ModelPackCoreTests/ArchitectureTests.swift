import Foundation
import Testing

/// The core's folders depend one way: a folder may use the types of the folders below it (and of
/// its own layer), never those above. README's architecture section draws the same layers.
@Suite struct ArchitectureTests {
    /// Lowest first. Folders on one line are one layer.
    static let layers: [[String]] = [
        ["Diagnostics"],
        ["Support"],
        ["Archive"],
        ["ModelDirectory"],
        ["Bundle"],
        ["Interface", "Requirements"],
        ["Metadata"],
        ["Audit"],
        ["Check"],
        ["Signing", "Serving"],
        ["Docker", "Registry", "Card"],
        ["Operations"],
        ["Rendering"],
        ["Fuzzing"],
    ]

    static let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/ModelPackCore")

    /// Each folder's Swift text without comments and string literals.
    static func sources() throws -> [String: String] {
        var out: [String: String] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: core.path) {
            let dir = core.appendingPathComponent(folder)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for file in files where file.hasSuffix(".swift") {
                var text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for pattern in [##"#?"""[\s\S]*?"""#?"##, ##""(?:[^"\\\n]|\\.)*""##, ##"//[^\n]*"##] {
                    text = text.replacingOccurrences(of: pattern, with: "\"\"", options: .regularExpression)
                }
                out[folder, default: ""] += text + "\n"
            }
        }
        return out
    }

    /// Types declared at the top level of each folder's files (nested types are their owner's).
    static func declarations(_ sources: [String: String]) throws -> [String: String] {
        let regex = try NSRegularExpression(
            pattern:
                #"^(?:public |internal |private |fileprivate |final |indirect )*(?:struct|enum|class|protocol|actor) ([A-Z]\w*)"#,
            options: [.anchorsMatchLines])
        var owner: [String: String] = [:]
        for (folder, text) in sources {
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { owner[String(text[range])] = folder }
            }
        }
        return owner
    }

    @Test func everyFolderHasALayer() throws {
        let folders = Set(try Self.sources().keys)
        #expect(folders == Set(Self.layers.flatMap { $0 }), "a new folder needs its place in the layers")
    }

    @Test func dependenciesRunOneWay() throws {
        let sources = try Self.sources()
        let owner = try Self.declarations(sources)
        let rank = Dictionary(uniqueKeysWithValues: Self.layers.enumerated().flatMap { i, l in l.map { ($0, i) } })
        var upward: [String] = []
        for (folder, text) in sources.sorted(by: { $0.key < $1.key }) {
            for (name, home) in owner.sorted(by: { $0.key < $1.key })
            where home != folder && (rank[home] ?? 0) > (rank[folder] ?? 0) {
                if text.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil {
                    upward.append("\(folder) uses \(name) from \(home)")
                }
            }
        }
        #expect(upward.isEmpty, "\(upward.joined(separator: "\n"))")
    }
}
