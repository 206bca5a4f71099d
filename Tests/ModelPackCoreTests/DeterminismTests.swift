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
        _ = try Operations.build(BuildOptions(source: tmp.file("one"), output: a, format: format), context: .test)
        sleep(1)  // a second later: no wall-clock time may reach the bytes (gzip header, zip dates)
        _ = try Operations.build(BuildOptions(source: tmp.file("two"), output: b, format: format), context: .test)
        #expect(try Fixture.read(a) == Fixture.read(b))
    }

    /// The bytes of a zip and a tar bundle of one fixed model, recorded: Docs/FORMAT.md promises a
    /// new `formatVersion` for any change to a bundle's bytes, so a change in how they are written
    /// (blocking, direct reads, a libarchive option) must leave these digests as they are.
    /// `RECORD=1` re-records them. The compressed containers are left out: their bytes also
    /// depend on the zlib and zstd versions installed.
    @Test func theBytesOfAFixedModelAreRecorded() throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("model"),
            extra: [
                "weights.bin": Fixture.noise(2_500_000, seed: 3),
                "a/notes.txt": Array(String(repeating: "note\n", count: 900).utf8),
                "a/small.bin": Fixture.noise(1_000, seed: 4),
            ])
        var lines: [String] = []
        for format in [ContainerFormat.zip, .tar] {
            let bundle = tmp.file("m.\(format.fileExtension)")
            _ = try Operations.build(
                BuildOptions(source: tmp.file("model"), output: bundle, format: format), context: .test)
            lines.append("\(format.fileExtension) \(SHA256Stream.hex(of: try Fixture.read(bundle)))")
        }
        try Golden.assert(lines.joined(separator: "\n") + "\n", "bundle-bytes.txt")
    }

    /// `build`'s one read of each file (the manifest reserved, then filled in place, with the zip's
    /// CRC-32s) gives exactly the bytes of writing the finished manifest first and reading every
    /// file again: offsets, CRCs and sizes all come out right. Files of every shape: empty, one
    /// byte, exactly one buffer, a buffer and one byte, stored and deflated, executable.
    @Test(arguments: [ContainerFormat.zip, .tar])
    func oneReadGivesTheBytesOfTwo(format: ContainerFormat) throws {
        let tmp = TempDir()
        let buffer = StreamBuffer.size
        try Fixture.model(
            at: tmp.file("m"),
            extra: [
                "empty.bin": [], "one.bin": [7], "buffer.bin": Fixture.noise(buffer),
                "buffer-and-one.bin": Fixture.noise(buffer + 1, seed: 3),
                "text.txt": Array(String(repeating: "compressible\n", count: 200_000).utf8),
                "weights/w.bin": Fixture.noise(3 * buffer + 12_345, seed: 9), "run.sh": Array("#!/bin/sh\n".utf8),
            ])
        chmod(tmp.file("m/run.sh"), 0o755)
        let once = tmp.file("once.\(format.fileExtension)")
        let result = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: once, format: format), context: .test)
        #expect(result.manifest.formatVersion == 2)
        let twice = tmp.file("twice.\(format.fileExtension)")
        let files = try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024)
        _ = try BundleWriter.write(
            result.manifest, files: files, to: twice, displayName: twice, format: format, timestamp: result.timestamp)
        #expect(try Fixture.read(once) == Fixture.read(twice))
        #expect(try Verifier.verify(once, context: .test).isValid)
        if format == .zip {
            #expect(try ZipCentralDirectory.methods(of: once)[Manifest.entryPath] == 0)  // stored: filled in place
        }
    }

    /// A format 1 bundle written again (a pull) keeps format 1's zip layout: a deflated manifest,
    /// and a small incompressible artifact stored after its trial.
    @Test func aFormat1ManifestKeepsItsLayout() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["small.bin": Fixture.noise(1000)])
        let built = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: tmp.file("m.zip"), format: .zip), context: .test)
        let m = built.manifest
        let old = Manifest(
            formatVersion: 1, tool: m.tool, name: m.name, version: m.version, allowedUnsafe: m.allowedUnsafe,
            trustedModules: m.trustedModules, files: m.files)
        _ = try BundleWriter.write(
            old, files: try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024), to: tmp.file("old.zip"),
            displayName: "old.zip", format: .zip, timestamp: built.timestamp)
        let methods = try ZipCentralDirectory.methods(of: tmp.file("old.zip"))
        #expect(methods[Manifest.entryPath] == 8 && methods["small.bin"] == 0)
        #expect(try ZipCentralDirectory.methods(of: tmp.file("m.zip"))["small.bin"] == 8)
        #expect(try BundleReader.inspect(tmp.file("old.zip"), limits: UnpackLimits()).digest == old.digest)
        #expect(try Verifier.verify(tmp.file("old.zip"), context: .test).isValid)
    }

    @Test func sourceDateEpochSetsEveryTimestamp() throws {
        #expect(SourceDate.timestamp(environment: [:]) == SourceDate.fixedEpoch)
        #expect(SourceDate.timestamp(environment: ["SOURCE_DATE_EPOCH": "1700000000"]) == 1_700_000_000)
        #expect(SourceDate.timestamp(environment: ["SOURCE_DATE_EPOCH": "garbage"]) == SourceDate.fixedEpoch)

        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        _ = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: tmp.file("a.tar"), format: .tar), context: .test)
        _ = try Operations.build(
            BuildOptions(
                source: tmp.file("m"), output: tmp.file("b.tar"), format: .tar,
                timestamp: 1_700_000_000), context: .test)
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

    /// A zip's CRC-32s go into its central directory a window of 1 MiB at a time
    /// (`ArchiveWriter.putCentralCRCs`): one of 9,000 long names (about 1.3 MiB) verifies, with
    /// every member's CRC checked against the central directory, and reads in Python's zipfile.
    @Test func aZipWhoseCentralDirectoryOutgrowsTheWindowVerifies() throws {
        let tmp = TempDir()
        var extra: [String: [UInt8]] = [:]
        for i in 0..<9_000 {
            extra["parts/\(i / 100)/" + String(repeating: "n", count: 90) + "-\(i).txt"] = Array("\(i)\n".utf8)
        }
        try Fixture.model(at: tmp.file("m"), extra: extra)
        let bundle = tmp.file("m.zip")
        _ = try Operations.build(BuildOptions(source: tmp.file("m"), output: bundle, format: .zip), context: .test)
        #expect(try Operations.verify(bundle, context: .test).isValid)
        let python = try CLI.run(
            [
                "-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.infolist()), z.testzip())",
                bundle,
            ],
            executable: PythonCompiler.find())
        #expect(python.stdout == "9004 None\n", "\(python.stderr)")
    }

    /// Writing a zip leaves the process's time zone as it was.
    @Test func buildingAZipKeepsTheProcessTimeZone() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        let before = getenv("TZ").map { String(cString: $0) }
        _ = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: tmp.file("m.zip"), format: .zip), context: .test)
        #expect(getenv("TZ").map { String(cString: $0) } == before)
    }
}
