import Foundation
import Testing

@testable import ModelPackCore

/// Archives built entry by entry with libarchive, each hostile in one way. `unpack` must refuse
/// every one with a ModelPackError, create nothing at the destination, nothing outside it, and
/// leave no temporary behind; `verify` must not call any of them valid.
@Suite struct HostileArchiveTests {
    static let payload = Array("payload\n".utf8)
    /// An honest manifest for the required files plus `x.bin`.
    static let listed = RawBundle.requiredFiles + [("x.bin", payload)]

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// The refusal must give one of these reasons: its own, not one a later check happens to give.
        let reasons: [String]
        let format: ContainerFormat
        let build: @Sendable (inout RawBundle, String) -> Void
        var testDescription: String { "\(name) (\(format.rawValue))" }
    }

    /// Each case gets `evil`, an absolute path outside the test folder that must never be created.
    static let shapes: [(String, [String], @Sendable (inout RawBundle, String) -> Void)] = [
        ("absolute path", ["absolute path"], { b, evil in entriesWith(&b, replacing: "x.bin", by: evil) }),
        ("dot-dot", ["'..' path component"], { b, _ in entriesWith(&b, replacing: "x.bin", by: "../evil.txt") }),
        (
            "inner dot-dot", ["'..' path component"],
            { b, _ in entriesWith(&b, replacing: "x.bin", by: "a/../../evil.txt") }
        ),
        ("trailing dot-dot", ["'..' path component"], { b, _ in entriesWith(&b, replacing: "x.bin", by: "a/..") }),
        (
            "backslash dot-dot", ["backslash in path", "'..' path component"],
            { b, _ in entriesWith(&b, replacing: "x.bin", by: "..\\evil.txt") }
        ),
        ("drive letter", ["drive-letter path"], { b, _ in entriesWith(&b, replacing: "x.bin", by: "C:/evil.txt") }),
        (
            "bytecode beside the audited source", ["Python bytecode"],
            { b, _ in entriesWith(&b, replacing: "x.bin", by: "__pycache__/interface.cpython-311.pyc") }
        ),
        (
            "bytecode listed in the manifest", ["Python bytecode"],
            { b, _ in
                let files = RawBundle.requiredFiles + [("features.pyc", payload)]
                b.addManifest(RawBundle.manifest(for: files))
                for (p, d) in files { b.add(p, d) }
            }
        ),
        ("dot component", ["'.' path component"], { b, _ in entriesWith(&b, replacing: "x.bin", by: "./x.bin") }),
        (
            "symlink", ["symbolic link"],
            { b, _ in
                b.addManifest(RawBundle.manifest(for: listed))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
                b.add("x.bin", [], kind: .symlink("/etc/passwd"))
            }
        ),
        (
            "symlink then write through it", ["symbolic link"],
            { b, evil in
                let dir = (evil as NSString).deletingLastPathComponent
                b.addManifest(RawBundle.manifest(for: RawBundle.requiredFiles + [("link/evil.txt", payload)]))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
                b.add("link", [], kind: .symlink(dir))
                b.add("link/evil.txt", payload)
            }
        ),
        (
            "hardlink", ["hard link", "declares 0 bytes"],
            { b, _ in
                b.addManifest(RawBundle.manifest(for: listed))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
                b.add("x.bin", [], kind: .hardlink("/etc/passwd"))
            }
        ),
        (
            "fifo", ["device, FIFO or socket"],
            { b, _ in
                b.addManifest(RawBundle.manifest(for: listed))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
                b.add("x.bin", [], kind: .fifo)
            }
        ),
        (
            "directory entry", ["directory entry"],
            { b, _ in
                b.addHonest(listed)
                b.add("subdir", [], kind: .directory)
            }
        ),
        (
            "duplicate entry", ["second entry"],
            { b, _ in
                b.addHonest(listed)
                b.add("x.bin", payload)
            }
        ),
        (
            "duplicate manifest", ["second entry"],
            { b, _ in
                b.addHonest(listed)
                b.addManifest(RawBundle.manifest(for: listed))
            }
        ),
        (
            "entry not in the manifest", ["not listed in the manifest"],
            { b, _ in
                b.addHonest(listed)
                b.add("y.bin", payload)
            }
        ),
        (
            "manifest entry missing", ["not in the archive"],
            { b, _ in
                b.addManifest(RawBundle.manifest(for: listed))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
            }
        ),
        (
            "more data than the manifest says", ["declares 1048584 bytes"],
            { b, _ in
                b.addManifest(RawBundle.manifest(for: listed))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
                b.add("x.bin", payload + Fixture.noise(1 << 20))
            }
        ),
        (
            "same size, other bytes", ["content differs"],
            { b, _ in
                b.addManifest(RawBundle.manifest(for: listed))
                for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
                b.add("x.bin", Array("PAYLOAD\n".utf8))
            }
        ),
        (
            "no manifest first", ["the first entry is 'interface.py'"],
            { b, _ in
                for (p, d) in listed { b.add(p, d) }
                b.addManifest(RawBundle.manifest(for: listed))
            }
        ),
        (
            "manifest lists a dot-dot path", ["'..' path component"],
            { b, _ in
                let hostile = RawBundle.requiredFiles + [("../evil.txt", payload)]
                b.addManifest(RawBundle.manifest(for: hostile))
                for (p, d) in hostile { b.add(p, d) }
            }
        ),
        (
            "manifest lists a case collision", ["collide"],
            { b, _ in
                let hostile = RawBundle.requiredFiles + [("X.bin", payload), ("x.bin", payload)]
                b.addHonest(hostile)
            }
        ),
        (
            "manifest lists a file and a folder of the same name", ["both a file and the folder"],
            { b, _ in
                b.addHonest(RawBundle.requiredFiles + [("x", payload), ("x/y", payload)])
            }
        ),
        (
            "manifest is not JSON", ["invalid JSON"],
            { b, _ in
                b.add(Manifest.entryPath, Array("{not json".utf8))
                for (p, d) in listed { b.add(p, d) }
            }
        ),
        (
            "manifest from a future format", ["format version 99"],
            { b, _ in
                b.add(Manifest.entryPath, Array("{\"formatVersion\": 99}".utf8))
                for (p, d) in listed { b.add(p, d) }
            }
        ),
        ("empty archive", ["empty file", "empty archive"], { _, _ in }),
    ]

    static let cases: [Case] = shapes.flatMap { name, reasons, build in
        // libarchive's zip writer cannot store a FIFO; tar can.
        let formats: [ContainerFormat] = name == "fifo" ? [.tar, .tarGz] : [.zip, .tar, .tarGz]
        return formats.map { Case(name: name, reasons: reasons, format: $0, build: build) }
    }

    static func entriesWith(_ b: inout RawBundle, replacing listedPath: String, by path: String) {
        b.addManifest(RawBundle.manifest(for: listed))
        for (p, d) in RawBundle.requiredFiles { b.add(p, d) }
        b.add(path, payload)
        _ = listedPath
    }

    @Test(arguments: cases)
    func unpackRefusesAndWritesNothing(_ hostile: Case) throws {
        let tmp = TempDir()
        try FileSystem.makeDirectory(tmp.file("work"))
        let evil = "/tmp/modelpack-evil-\(UUID().uuidString)/evil.txt"
        var raw = RawBundle(format: hostile.format)
        hostile.build(&raw, evil)
        let bundle = tmp.file("work/b.\(hostile.format.fileExtension)")
        if raw.entries.isEmpty {
            try Fixture.write([], to: bundle)
        } else {
            try raw.write(to: bundle)
        }
        let destination = tmp.file("work/out")

        do {
            try Unpacker.unpack(bundle, to: destination, force: false, context: .test)
            Issue.record("unpack accepted \(hostile.testDescription)")
        } catch let error as ModelPackError {
            #expect(hostile.reasons.contains { error.description.contains($0) }, "\(error)")
        }
        #expect(!FileSystem.exists(destination))
        #expect(tmp.contents() == ["work"])
        #expect(TempDir.listing(tmp.file("work")) == ["b.\(hostile.format.fileExtension)"])
        #expect(!FileSystem.exists(evil))
        #expect(!FileSystem.exists((evil as NSString).deletingLastPathComponent))

        let valid = (try? Verifier.verify(bundle, context: .test).isValid) ?? false
        #expect(!valid)
    }

    /// A zip with bytes before it (a self-extracting stub): its offsets do not add up from the
    /// file's start, so the central directory the names are judged by cannot be read; refused.
    @Test func aZipWithDataBeforeItIsRefused() throws {
        let tmp = TempDir()
        var raw = RawBundle(format: .zip)
        raw.addHonest(Self.listed)
        try raw.write(to: tmp.file("b.zip"))
        try Fixture.write(
            Array("#!/bin/sh\nexit 0\n".utf8) + (try Fixture.read(tmp.file("b.zip"))), to: tmp.file("s.zip"))
        do {
            try Unpacker.unpack(tmp.file("s.zip"), to: tmp.file("out"), force: false, context: .test)
            Issue.record("a zip with data before it was unpacked")
        } catch let error as ModelPackError {
            #expect(error.description.contains("damaged zip"), "\(error)")
        }
        #expect(!FileSystem.exists(tmp.file("out")))
    }

    @Test func anHonestRawBundleIsAccepted() throws {
        // The control: the same machinery without a hostile twist unpacks, so the cases above fail
        // for their twist and not for the way they were made.
        for format in [ContainerFormat.zip, .tar, .tarGz] {
            let tmp = TempDir()
            var raw = RawBundle(format: format)
            raw.addHonest(Self.listed)
            try raw.write(to: tmp.file("b"))
            try Unpacker.unpack(tmp.file("b"), to: tmp.file("out"), force: false, context: .test)
            #expect(try Fixture.read(tmp.file("out/x.bin")) == Self.payload)
            #expect(try Verifier.verify(tmp.file("b"), context: .test).isValid)
        }
    }

    @Test func limitsStopBombsBeforeAnythingIsWritten() throws {
        let tmp = TempDir()
        var raw = RawBundle(format: .tarGz)
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        raw.addHonest(RawBundle.requiredFiles + [("zeros.bin", zeros)])
        try raw.write(to: tmp.file("bomb.tar.gz"))

        var entries = UnpackLimits()
        entries.maxEntries = 3
        var total = UnpackLimits()
        total.maxTotalSize = 1 << 20
        var ratio = UnpackLimits()
        ratio.ratioFloor = 1 << 20
        ratio.maxRatio = 100
        for (limits, words) in [(entries, "--max-entries"), (total, "--max-total-size"), (ratio, "--max-ratio")] {
            do {
                var context = RunContext.test
                context.limits.unpack = limits
                try Unpacker.unpack(tmp.file("bomb.tar.gz"), to: tmp.file("out"), force: false, context: context)
                Issue.record("unpack accepted a bundle over \(words)")
            } catch let error as ModelPackError {
                guard case .limitExceeded(_, let reason) = error else {
                    Issue.record("expected a limit error, got \(error)")
                    continue
                }
                #expect(reason.contains(words))
            }
            #expect(tmp.contents() == ["bomb.tar.gz"])
        }
        // Within the limits the same bundle unpacks.
        try Unpacker.unpack(tmp.file("bomb.tar.gz"), to: tmp.file("out"), force: false, context: .test)
        #expect(try Fixture.read(tmp.file("out/zeros.bin")) == zeros)
    }

    @Test func anExistingDestinationIsKeptWithoutForce() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("model"))
        _ = try Operations.build(
            BuildOptions(source: tmp.file("model"), output: tmp.file("m.zip"), format: .zip), context: .test)
        try Fixture.write(Array("keep me".utf8), to: tmp.file("out/precious.txt"))
        #expect(throws: ModelPackError.destinationExists(path: tmp.file("out"))) {
            try Unpacker.unpack(tmp.file("m.zip"), to: tmp.file("out"), force: false, context: .test)
        }
        #expect(try Fixture.read(tmp.file("out/precious.txt")) == Array("keep me".utf8))

        // A bad bundle with --force leaves the old directory as it was.
        var raw = RawBundle(format: .zip)
        raw.addManifest(RawBundle.manifest(for: Self.listed))
        try raw.write(to: tmp.file("bad.zip"))
        #expect(throws: ModelPackError.self) {
            try Unpacker.unpack(tmp.file("bad.zip"), to: tmp.file("out"), force: true, context: .test)
        }
        #expect(try Fixture.read(tmp.file("out/precious.txt")) == Array("keep me".utf8))

        try Unpacker.unpack(tmp.file("m.zip"), to: tmp.file("out"), force: true, context: .test)
        #expect(!FileSystem.exists(tmp.file("out/precious.txt")))
        #expect(FileSystem.exists(tmp.file("out/metadata.yaml")))
        #expect(tmp.contents() == ["bad.zip", "m.zip", "model", "out"])
    }
}
