import Foundation
import Testing

@testable import ModelPackCore

@Suite struct PickleScannerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func scan(_ path: String) throws -> PickleScanResult {
        let file = try InputFile(path: path)
        var scanner = PickleScanner(reader: ByteReader { try file.read(into: $0) }, limits: PickleLimits())
        return scanner.scanAll()
    }

    static func scan(bytes: [UInt8]) -> PickleScanResult {
        var scanner = PickleScanner(reader: ByteReader(bytes: bytes), limits: PickleLimits())
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

@Suite struct PickleCorpusTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures/pickles")

    static func files(_ kind: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(kind).path)) ?? []).sorted()
    }

    @Test func theCorporaAreThere() {
        #expect(Self.files("malicious").count >= 64)
        #expect(Self.files("benign").count >= 35)
    }

    /// Through the whole audit, as `inspect` and `scan` see them: format detection, compressed
    /// streams, zip members. Every one is blocked (what build refuses without --allow-unsafe), and
    /// dangerous where the blocklist names what it reaches; the one left, a call the blocklist does
    /// not know (`pathlib.Path.write_text`), is an error because it is not on the allowlist.
    @Test(arguments: files("malicious"))
    func everyMaliciousFileIsBlocked(_ name: String) throws {
        let (audits, report) = try Operations.scan(
            [Self.dir.appendingPathComponent("malicious/" + name).path], context: .test
        ).pair
        #expect(audits[0].runsSomething, "\(report.diagnostics.map(\.message))")
        #expect(report.errorCount > 0)
        if name.hasPrefix("pathlib_") {
            #expect(report.diagnostics.contains { $0.code == .unvettedCall }, "\(report.diagnostics.map(\.message))")
        } else {
            #expect(audits[0].verdict == .dangerous, "\(report.diagnostics.map(\.message))")
        }
        if name.hasPrefix("compressed_") { #expect(!audits[0].compression.isEmpty) }
    }

    @Test(arguments: files("benign"))
    func everyBenignArtifactIsSafe(_ name: String) throws {
        let (audits, report) = try Operations.scan(
            [Self.dir.appendingPathComponent("benign/" + name).path], context: .test
        ).pair
        #expect(audits[0].verdict == .safe)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics.map(\.message))")
        #expect([ArtifactFormat.pickle, .joblib, .pytorchZip, .pytorchLegacy].contains(audits[0].format))
    }
}

/// The bypasses are caught for the right reason, not by accident.
@Suite struct PickleBypassTests {
    static func scan(_ name: String) throws -> PickleScanResult {
        try PickleScannerTests.scan(PickleCorpusTests.dir.appendingPathComponent("malicious/" + name).path)
    }

    static func dangerous(_ r: PickleScanResult) -> [String] {
        r.imports.filter { $0.verdict == .dangerous }.map(\.qualifiedName)
    }

    /// fickling GHSA-cffv-grgg-g429: its allowlist pass was dead code, so a standard-library call
    /// missing from its denylist came out LIKELY_SAFE. Here "safe" exists only on the allowlist:
    /// a callable on neither list is unknown, and calling it is an error (MP516): `scan` fails on
    /// it without --strict. Referring to it without a call is a warning (MP502).
    @Test func aCallOnNeitherListIsNeverSafe() throws {
        let tmp = TempDir()
        let pickle: [UInt8] =
            [0x80, 4, 0x8c, 9] + Array("sysconfig".utf8) + [0x8c, 9] + Array("get_paths".utf8) + [
                0x93, 0x29, 0x52, 0x2e,
            ]
        let r = PickleScannerTests.scan(bytes: pickle)
        #expect(r.imports.map(\.qualifiedName) == ["sysconfig.get_paths"])
        #expect(r.imports.first?.verdict == .unknown)
        #expect(r.calls == ["sysconfig.get_paths"])
        try Fixture.write(pickle, to: tmp.file("model.pkl"))
        let scan = try CLI.run(["scan", tmp.file("model.pkl")])
        #expect(
            scan.status == 1
                && scan.stdout.contains(
                    "error[MP516]: calls sysconfig.get_paths at byte 24, which is not on the allowlist"),
            "\(scan.stdout)")
        // The same global only referred to (pushed, then returned): for review.
        let referred: [UInt8] =
            [0x80, 4, 0x8c, 9] + Array("sysconfig".utf8) + [0x8c, 9] + Array("get_paths".utf8) + [0x93, 0x2e]
        try Fixture.write(referred, to: tmp.file("ref.pkl"))
        #expect(try CLI.run(["scan", tmp.file("ref.pkl")]).status == 0)
        let strict = try CLI.run(["scan", "--strict", tmp.file("ref.pkl")])
        #expect(strict.status == 1 && strict.stdout.contains("warning[MP502]: imports sysconfig.get_paths"))
    }

    @Test func memoIndirectionResolvesExactlyPastTheDecoy() throws {
        let r = try Self.scan("memo_indirection_decoy_22.pkl")
        #expect(r.imports.map(\.qualifiedName) == ["torch.LongStorage", "os.system"])
        #expect(r.imports.first?.verdict == .safe)
        #expect(r.calls.contains("os.system"))
    }

    @Test func stringOpcodesFeedStackGlobal() throws {
        #expect(Self.dangerous(try Self.scan("string_stack_global_GHSA-9gvj.pkl")) == ["os.system"])
        #expect(Self.dangerous(try Self.scan("binstring_stack_global.pkl")) == ["nt.system"])
    }

    @Test func thePayloadBeforeABreakIsReported() throws {
        for name in [
            "missing_memo_after_payload_52.pkl", "broken_after_payload_nullifai.pkl", "truncated_after_payload.pkl",
        ] {
            let r = try Self.scan(name)
            #expect(!Self.dangerous(r).isEmpty, "\(name)")
            #expect(!r.findings.isEmpty, "\(name): the break is reported too")
        }
    }

    @Test func joblibPayloadAfterAnArrayIsFound() throws {
        let r = try Self.scan("joblib_payload_after_array_356.joblib")
        #expect(r.arrayBytes == 32)
        #expect(Self.dangerous(r) == ["os.system"])
        #expect(r.findings.isEmpty)
    }

    @Test func callsWhoseResultIsDroppedAreStillCalls() throws {
        let r = try Self.scan("obj_then_pop_GHSA-mxhj.pkl")
        #expect(r.calls == ["os.system"])
    }

    @Test func aFrameCrossingIsFlagged() throws {
        let r = try Self.scan("frame_boundary_317.pkl")
        #expect(r.findings.contains { $0.verdict == .dangerous && $0.message.contains("FRAME") })
    }

    @Test func dottedHopsAndDundersAreFollowed() throws {
        let hop = try #require(try Self.scan("dotted_hop_pathlib_os_GHSA-5j3x.pkl").imports.first)
        #expect(hop.verdict == .dangerous && (hop.reason ?? "").contains("reached through pathlib"))
        #expect(try Self.scan("numpy_builtins_330.pkl").imports.first?.verdict == .dangerous)
        let build = try Self.scan("build_on_allowlisted_global_85.pkl")
        #expect(build.findings.contains { $0.message.contains("BUILD sets attributes on the imported numpy.prod") })
    }

    @Test func everyPickleInAFileIsScanned() throws {
        let r = try Self.scan("concatenated_benign_then_malicious.pkl")
        #expect(r.pickles == 2)
        #expect(Self.dangerous(r) == ["os.system"])
        let legacy = try Self.scan("legacy_magic_eval_GHSA-97f8.pt")
        #expect(legacy.pickles == 3 && Self.dangerous(legacy) == ["builtins.eval"])
    }

    @Test func submodulesOfBlockedModulesAreBlocked() throws {
        #expect(
            Self.dangerous(try Self.scan("submodule_asyncio_CVE-2025-10157.pkl")) == [
                "asyncio.unix_events._UnixSubprocessTransport"
            ])
        #expect(Self.dangerous(try Self.scan("torch_collect_env_run_338.pkl")) == ["torch.utils.collect_env.run"])
    }

    @Test func limitsStopRunawayPickles() {
        var limits = PickleLimits()
        limits.maxStack = 100
        let bomb = [UInt8]([0x80, 4]) + [UInt8](repeating: UInt8(ascii: "N"), count: 1000) + [UInt8(ascii: ".")]
        var scanner = PickleScanner(reader: ByteReader(bytes: bomb), limits: limits)
        let r = scanner.scanAll()
        #expect(r.findings.contains { $0.message.contains("limit") })
    }
}
