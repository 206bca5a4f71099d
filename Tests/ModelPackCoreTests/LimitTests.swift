import Foundation
import Testing

@testable import ModelPackCore

/// Every documented limit (Docs/SECURITY.md), exceeded through its flag: a one-line error naming
/// the limit and the flag that raises it, exit 1, nothing written. Each case also runs without the
/// flag (or with it raised) and succeeds, so a flag that is ignored fails its case.
@Suite struct LimitTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let flag: String
        let value: String
        let command: String
        /// What the output (stderr for refusals, stdout for scan findings) must contain.
        let message: String
        var testDescription: String { "\(flag) \(value)" }
    }

    static let pickle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pickles/benign/pipeline_p5.pkl").path

    static let cases: [Case] = [
        Case(
            flag: "--max-entries", value: "3", command: "unpack",
            message: "6 files exceed the limit of 3 (raise it with --max-entries)"),
        Case(
            flag: "--max-total-size", value: "1K", command: "unpack",
            message: "exceed the limit of 1024 (raise it with --max-total-size)"),
        Case(
            flag: "--max-path-length", value: "40", command: "build",
            message: "path longer than 40 bytes (raise the limit with --max-path-length)"),
        Case(
            flag: "--max-path-length", value: "40", command: "unpack",
            message: "path longer than 40 bytes (raise the limit with --max-path-length)"),
        Case(
            flag: "--max-yaml-size", value: "100", command: "validate",
            message: "document is larger than 100 bytes (raise the limit with --max-yaml-size)"),
        Case(
            flag: "--max-yaml-depth", value: "1", command: "validate",
            message: "nesting is deeper than 1 levels (raise the limit with --max-yaml-depth)"),
        Case(
            flag: "--max-yaml-nodes", value: "10", command: "build",
            message: "raise the limit with --max-yaml-nodes"),
        Case(
            flag: "--max-pickle-opcodes", value: "5", command: "scan",
            message: "the scan stopped after 5 opcodes (raise the limit with --max-pickle-opcodes)"),
        Case(
            flag: "--max-pickle-memo", value: "2", command: "scan",
            message: "memo larger than 2 entries (raise the limit with --max-pickle-memo)"),
        Case(
            flag: "--max-pickle-stack", value: "3", command: "inspect",
            message: "stack deeper than 3 entries (raise the limit with --max-pickle-stack)"),
    ]

    @Test(arguments: cases) func exceeded(_ c: Case) throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("model"),
            extra: [
                "data/a/fairly/long/path/to/some/table.csv": Array("x\n1\n".utf8),
                "model.pkl": try Fixture.read(Self.pickle),
                "notes.txt": Array("n\n".utf8),
                "requirements.txt": Array("scikit-learn==1.9.1\nnumpy==2.3.4\n".utf8),
                // The pipeline takes three features a row: one input each (MP114).
                "metadata.yaml": Array(
                    Fixture.metadata.replacingOccurrences(
                        of: "  - {name: x, type: float}\n",
                        with: "  - {name: a, type: float}\n  - {name: b, type: float}\n  - {name: c, type: float}\n"
                    ).utf8),
            ])
        let bundle = tmp.file("model.tar.gz")
        var arguments: [String]
        switch c.command {
        case "build": arguments = ["build", tmp.file("model"), "-o", bundle]
        case "validate": arguments = ["validate", tmp.file("model")]
        case "scan": arguments = ["scan", "--strict", Self.pickle]
        default:
            let built = try CLI.run(["build", tmp.file("model"), "-o", bundle])
            #expect(built.status == 0, "\(built.stderr)")
            arguments =
                c.command == "inspect"
                ? ["inspect", "--strict", bundle] : ["unpack", bundle, "-o", tmp.file("out")]
        }
        let refused = try CLI.run(arguments + [c.flag, c.value])
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect((refused.stdout + refused.stderr).contains(c.message), "\(refused.stdout)\(refused.stderr)")
        if c.command == "build" || c.command == "unpack" {
            if c.command == "build" { #expect(!FileSystem.exists(bundle)) }
            #expect(!FileSystem.exists(tmp.file("out")))
            #expect(!tmp.contents().contains { $0.hasPrefix(".modelpack-tmp") })
        }
        let accepted = try CLI.run(arguments)
        #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
    }

    /// The ratio only counts past 1 GiB, so the bundle claims 2 GiB in 1 KiB: the default refuses
    /// it before reading a byte of data; raised, the refusal is the lie itself.
    @Test func maxRatio() throws {
        let tmp = TempDir()
        var raw = RawBundle(format: .tarGz)
        var manifest = RawBundle.manifest(for: RawBundle.requiredFiles + [("big.bin", [])])
        manifest = Manifest(
            formatVersion: 1, tool: "test", name: "bomb", version: "1",
            files: manifest.files.map {
                $0.path == "big.bin"
                    ? FileRecord(path: $0.path, role: $0.role, size: 2 << 30, sha256: $0.sha256, executable: false)
                    : $0
            })
        raw.addManifest(manifest)
        for (path, data) in RawBundle.requiredFiles + [("big.bin", [UInt8]())] { raw.add(path, data) }
        try raw.write(to: tmp.file("bomb.tar.gz"))
        let refused = try CLI.run(["unpack", tmp.file("bomb.tar.gz"), "-o", tmp.file("out")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("more than 1000:1 (a compression bomb? raise it with --max-ratio)"))
        let raised = try CLI.run(
            ["unpack", tmp.file("bomb.tar.gz"), "-o", tmp.file("out"), "--max-ratio", "100000000"])
        #expect(raised.status == 1)
        #expect(!raised.stderr.contains("--max-ratio"), "\(raised.stderr)")
        #expect(tmp.contents() == ["bomb.tar.gz"])
    }

    @Test(arguments: [
        ("64K", Int64(65536)), ("512M", 512 << 20), ("2G", 2 << 30), ("1T", 1 << 40), ("3MiB", 3 << 20),
        ("100", 100), ("7kb", 7168),
    ])
    func sizesParse(_ text: String, _ bytes: Int64) {
        #expect(ByteCount.parse(text) == bytes)
        #expect(ByteCount.parse(ByteCount.flag(bytes)) == bytes)
    }

    @Test(arguments: ["", "G", "-1", "1.5G", "12Q", "99999999999T"]) func badSizesAreRefused(_ text: String) {
        #expect(ByteCount.parse(text) == nil)
    }

    @Test func aLimitBelowOneIsAUsageError() throws {
        let result = try CLI.run(["validate", ".", "--max-yaml-depth", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--max-yaml-depth must be at least 1"))
    }
}
