import Foundation
import Testing

@testable import ModelPackCore

/// Every input a fuzzer found that crashed, hung or broke an invariant, replayed through the same
/// entry point the fuzz driver uses (Tests/Fuzz). Fixtures/fuzz/TARGET/ holds them; a regression
/// traps and fails the run.
@Suite struct FuzzRegressionTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures/fuzz")

    static var cases: [String] {
        let targets = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return targets.sorted().flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(target).path)) ?? [])
                .sorted().map { "\(target)/\($0)" }
        }
    }

    @Test func everyTargetDirectoryIsAFuzzTarget() throws {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path)
        #expect(!targets.isEmpty)
        for target in targets { #expect(FuzzEntry.Target(rawValue: target) != nil, "\(target)") }
    }

    @Test(arguments: cases) func replay(_ name: String) throws {
        let target = try #require(FuzzEntry.Target(rawValue: String(name.prefix(while: { $0 != "/" }))))
        let bytes = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent(name)))
        FuzzEntry.run(target, bytes)
    }

    /// A numpy unicode dtype whose size in bytes does not fit is no layout, not a trap.
    @Test func aHugeUnicodeDtypeHasNoLayout() {
        let dtype = PickleValue.object(
            callee: .global(module: "numpy", name: "dtype"), args: .tuple([.string("U3000000000000000000")]),
            state: nil)
        #expect(PickleScanner.dtypeLayout(dtype) == nil)
    }

    /// A length no file can have is a finding, not a trap.
    @Test func hugeLengthIsAFinding() throws {
        let bytes = try [UInt8](
            Data(contentsOf: Self.dir.appendingPathComponent("safetensors/header-length-over-int64-max.bin")))
        let (_, issues, _) = try TensorFormats.readSafetensors(ByteReader(bytes: bytes), size: Int64(bytes.count))
        #expect(
            issues.map(\.message) == [
                "header length 17654110539292344328 is over the 100 MB limit or past the end of the file"
            ])
    }
}
