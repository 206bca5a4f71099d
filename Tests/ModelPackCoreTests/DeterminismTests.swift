import Foundation
import Testing

@testable import ModelPackCore

@Suite struct DeterminismTests {
    /// Two copies of the same model made differently: other creation order, mtimes, umask-like
    /// permissions and time zone. The bundles must be byte-identical.
    @Test(arguments: ContainerFormat.allCases)
    func sameContentGivesIdenticalBytes(format: ContainerFormat) throws {
        let tmp = TempDir()
        let extra: [String: [UInt8]] = [
            "a/b/c.bin": Fixture.noise(70_000),
            "z.txt": Array("zzz\n".utf8),
            "m/n.txt": Array("nnn\n".utf8),
        ]
        let keys = (extra.keys + ["metadata.yaml", "requirements.txt", "interface.py"])
        try Fixture.model(at: tmp.file("one"), extra: extra, order: keys.sorted())
        try Fixture.model(at: tmp.file("two"), extra: extra, order: keys.sorted().reversed())
        for (i, path) in try FileManager.default.subpathsOfDirectory(atPath: tmp.file("two")).enumerated() {
            let full = tmp.file("two/" + path)
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDir)
            let when = Date(timeIntervalSince1970: 1_000_000_000 + Double(i) * 3_600)
            try FileManager.default.setAttributes([.modificationDate: when], ofItemAtPath: full)
            if !isDir.boolValue { chmod(full, 0o600) }  // as under umask 077
        }
        let a = tmp.file("one.\(format.fileExtension)"), b = tmp.file("two.\(format.fileExtension)")
        _ = try Operations.build(BuildOptions(source: tmp.file("one"), output: a, format: format))
        sleep(1)  // a second later: no wall-clock time may reach the bytes (gzip header, zip dates)
        _ = try Operations.build(BuildOptions(source: tmp.file("two"), output: b, format: format))
        #expect(try Fixture.read(a) == Fixture.read(b))
    }

    @Test func sourceDateEpochSetsEveryTimestamp() throws {
        #expect(SourceDate.timestamp(environment: [:]) == SourceDate.fixedEpoch)
        #expect(SourceDate.timestamp(environment: ["SOURCE_DATE_EPOCH": "1700000000"]) == 1_700_000_000)
        #expect(SourceDate.timestamp(environment: ["SOURCE_DATE_EPOCH": "garbage"]) == SourceDate.fixedEpoch)

        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        _ = try Operations.build(BuildOptions(source: tmp.file("m"), output: tmp.file("a.tar"), format: .tar))
        _ = try Operations.build(
            BuildOptions(
                source: tmp.file("m"), output: tmp.file("b.tar"), format: .tar,
                timestamp: 1_700_000_000))
        #expect(try Fixture.read(tmp.file("a.tar")) != Fixture.read(tmp.file("b.tar")))
        // ustar mtime field: 12 octal bytes at offset 136 of every header; the first is the manifest's.
        let header = try Fixture.read(tmp.file("b.tar"))
        let mtime = String(decoding: header[136..<147], as: UTF8.self)
        #expect(Int(mtime, radix: 8) == 1_700_000_000)
    }

    /// Two epochs give two bundles, each entry stamped with its epoch; the same epoch, the same
    /// bytes. (With SOURCE_DATE_EPOCH ignored, the first expectation fails.)
    @Test func cliBuildHonoursSourceDateEpoch() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        func build(_ name: String, _ epoch: String) throws -> [UInt8] {
            let result = try CLI.run(
                ["build", tmp.file("m"), "-o", tmp.file(name)], environment: ["SOURCE_DATE_EPOCH": epoch])
            #expect(result.status == 0, "\(result.stderr)")
            return try Fixture.read(tmp.file(name))
        }
        let one = try build("a.tar", "1600000000"), same = try build("b.tar", "1600000000")
        let other = try build("c.tar", "1700000000")
        #expect(one == same)
        #expect(one != other)
        for (bytes, epoch) in [(one, 1_600_000_000), (other, 1_700_000_000)] {
            // ustar mtime: 12 octal bytes at offset 136 of the first header (the manifest's).
            #expect(Int(String(decoding: bytes[136..<147], as: UTF8.self), radix: 8) == epoch)
        }
    }

    /// Writing a zip leaves the process's time zone as it was.
    @Test func buildingAZipKeepsTheProcessTimeZone() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        let before = getenv("TZ").map { String(cString: $0) }
        _ = try Operations.build(BuildOptions(source: tmp.file("m"), output: tmp.file("m.zip"), format: .zip))
        #expect(getenv("TZ").map { String(cString: $0) } == before)
    }
}
