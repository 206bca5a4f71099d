import Foundation
import Testing

@testable import ModelPackCore

/// The bundle rulebook (Fixtures/bundles: cases.json and the bundles make_bundles.py writes) read
/// by the Swift reader: every bundle accepted with its digest and files, or refused with the reason
/// the table gives, leaving nothing behind, and never valid to verify. The Python reader that
/// Spark executors and Ray workers use runs the same table (Tests/runtime/test_rulebook.py), so a
/// rule one of them keeps and the other does not fails one of the two.
@Suite struct RulebookTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bundles")

    struct Record: Decodable, Equatable, Sendable {
        let path: String
        let role: String
        let size: Int64
        let sha256: String
        let executable: Bool
    }

    struct Accept: Decodable, Sendable {
        let digest: String
        let files: [Record]
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let bundle: String
        /// In serving.json's names: maxEntries, maxTotalSize, maxRatio, ratioFloor, maxPathBytes.
        let limits: [String: Int64]?
        let accept: Accept?
        let refuse: String?
        var testDescription: String { name }

        var unpackLimits: UnpackLimits {
            var limits = UnpackLimits()
            for (key, value) in self.limits ?? [:] {
                switch key {
                case "maxEntries": limits.maxEntries = Int(value)
                case "maxTotalSize": limits.maxTotalSize = value
                case "maxRatio": limits.maxRatio = value
                case "ratioFloor": limits.ratioFloor = value
                case "maxPathBytes": limits.maxPathBytes = Int(value)
                default: Issue.record("unknown limit \(key)")
                }
            }
            return limits
        }
    }

    struct Table: Decodable { let cases: [Case] }

    static let cases: [Case] = {
        let data = (try? Data(contentsOf: directory.appendingPathComponent("cases.json"))) ?? Data()
        return (try? JSONDecoder().decode(Table.self, from: data).cases) ?? []
    }()

    @Test func theTableIsThere() {
        #expect(Self.cases.count >= 90)
        #expect(Self.cases.allSatisfy { ($0.accept == nil) != ($0.refuse == nil) })
    }

    @Test(arguments: cases)
    func theSwiftReaderKeepsTheRulebook(_ rule: Case) throws {
        let tmp = TempDir()
        let bundle = Self.directory.appendingPathComponent(rule.bundle).path
        var context = RunContext.test
        context.limits.unpack = rule.unpackLimits
        let out = tmp.file("out")
        if let accept = rule.accept {
            let summary = try Unpacker.unpack(bundle, to: out, force: false, context: context)
            #expect(summary.digest == accept.digest)
            #expect(try BundleReader.inspect(bundle, limits: context.limits.unpack).digest == accept.digest)
            #expect(
                Set(TempDir.files(under: out)) == Set([Manifest.entryPath] + accept.files.map(\.path)),
                "\(TempDir.files(under: out))")
            let manifest = try Fixture.read(out + "/" + Manifest.entryPath)
            #expect("sha256:" + SHA256Stream.hex(of: manifest) == accept.digest)
            for record in accept.files {
                let data = try Fixture.read(out + "/" + record.path)
                #expect(
                    Int64(data.count) == record.size && SHA256Stream.hex(of: data) == record.sha256, "\(record.path)")
                #expect(FileRole.of(record.path).rawValue == record.role)
                let mode = try FileSystem.lstatInfo(out + "/" + record.path)?.mode ?? 0
                #expect((mode & 0o111 != 0) == record.executable, "\(record.path)")
            }
            #expect(try Verifier.verify(bundle, context: context).isValid)
        } else {
            let reason = try #require(rule.refuse)
            do {
                try Unpacker.unpack(bundle, to: out, force: false, context: context)
                Issue.record("accepted; the rulebook refuses it: \(reason)")
            } catch let error as ModelPackError {
                #expect(error.description.hasPrefix("\(bundle): \(reason)"), "\(error)")
                #expect(!error.description.contains("\n"))
            }
            #expect(tmp.contents().isEmpty, "nothing may be left behind: \(tmp.contents())")
            #expect(!((try? Verifier.verify(bundle, context: context).isValid) ?? false))
        }
    }

    /// The committed bundles and table are what the committed script writes.
    @Test(.enabled(if: PythonOracle.required || PythonCompiler.find() != nil))
    func theRulebookIsWhatItsScriptWrites() throws {
        let tmp = TempDir()
        let result = try PythonOracle.run(
            Self.directory.appendingPathComponent("make_bundles.py").path, ["--out", tmp.path])
        #expect(result.status == 0, "\(result.output)")
        let written = TempDir.files(under: tmp.path).sorted()
        let committed = TempDir.files(under: Self.directory.path).filter { $0 != "make_bundles.py" }.sorted()
        #expect(written == committed)
        for name in written {
            #expect(
                try Fixture.read(tmp.file(name)) == Fixture.read(Self.directory.appendingPathComponent(name).path),
                "\(name) differs: run make_bundles.py")
        }
    }
}
