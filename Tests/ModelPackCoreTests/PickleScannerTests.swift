import Foundation
import Testing

@testable import ModelPackCore

@Suite struct PickleScannerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func scan(_ path: String) throws -> PickleScanResult {
        let file = try InputFile(path: path)
        var scanner = PickleScanner(reader: ByteReader { try file.read(into: $0) })
        return scanner.scanAll()
    }

    static func scan(bytes: [UInt8]) -> PickleScanResult {
        var scanner = PickleScanner(reader: ByteReader(bytes: bytes))
        return scanner.scanAll()
    }

    @Test(arguments: ["iris-sklearn", "churn-sklearn"])
    func theExampleModelsAreSafe(_ example: String) throws {
        let result = try Self.scan(Self.root.appendingPathComponent("Examples/\(example)/model.joblib").path)
        let notSafe = result.distinctImports.filter { $0.verdict != .safe }.map(\.qualifiedName)
        #expect(notSafe.isEmpty, "not safe: \(notSafe)")
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.verdict == .safe)
        #expect(result.recordedVersions["scikit-learn"] == ["1.9.1"])
        #expect(result.arrayBytes > 0)
        #expect(result.pickles == 1)
    }
}
