import Foundation
import Testing

@testable import ModelPackCore

/// A damaged bundle must fail `verify` (exit 1, or a refused manifest) and `unpack` (nothing written).
@Suite struct TamperTests {
    static let files: [String: [UInt8]] = [
        "weights.bin": Fixture.noise(300_000, seed: 7),
        "notes.txt": Array(String(repeating: "model notes line\n", count: 2_000).utf8),
    ]

    func makeBundle(_ tmp: TempDir, _ format: ContainerFormat) throws -> String {
        try Fixture.model(at: tmp.file("model"), extra: Self.files)
        let bundle = tmp.file("m.\(format.fileExtension)")
        _ = try Operations.build(BuildOptions(source: tmp.file("model"), output: bundle, format: format))
        return bundle
    }

    /// Asserts that verify and unpack both catch the damage and unpack leaves nothing behind.
    func expectCaught(_ tmp: TempDir, _ bundle: String, _ what: Comment) {
        var caughtByVerify = false
        do {
            caughtByVerify = !(try Verifier.verify(bundle).isValid)
        } catch is ModelPackError {
            caughtByVerify = true
        } catch {}
        #expect(caughtByVerify, what)
        #expect(throws: ModelPackError.self, what) {
            try Unpacker.unpack(UnpackOptions(bundle: bundle, destination: tmp.file("out")))
        }
        #expect(!FileSystem.exists(tmp.file("out")), what)
        #expect(!tmp.contents().contains { $0.hasPrefix(TemporaryOutput.prefix) }, what)
    }

    func flip(_ path: String, at offset: Int) throws {
        var bytes = try Fixture.read(path)
        bytes[offset] ^= 0x5a
        try Fixture.write(bytes, to: path)
    }

    /// The offsets of every entry's data: searched for in a plain tar, read from the central
    /// directory of a zip (stored and deflated data alike).
    func dataRanges(_ bundle: String, _ format: ContainerFormat, model: String) throws -> [(String, Range<Int>)] {
        if format == .zip {
            return try ZipCentralDirectory.entries(of: bundle).filter { $0.compressedSize > 0 }.map {
                ($0.name, $0.dataOffset..<($0.dataOffset + $0.compressedSize))
            }
        }
        let archive = try Fixture.read(bundle)
        let manifest = try BundleReader.inspect(bundle).manifest
        var ranges: [(String, Range<Int>)] = []
        for record in manifest.files where record.size > 0 {
            let content = try Fixture.read(model + "/" + record.path)
            let start = try #require(find(content, in: archive), "\(record.path) not found in tar")
            ranges.append((record.path, start..<(start + content.count)))
        }
        let manifestBytes = manifest.canonicalBytes()
        let start = try #require(find(manifestBytes, in: archive))
        ranges.append((Manifest.entryPath, start..<(start + manifestBytes.count)))
        return ranges
    }

    @Test(arguments: [ContainerFormat.tar, .zip])
    func flippingAByteInAnyEntryIsCaught(format: ContainerFormat) throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, format)
        let pristine = try Fixture.read(bundle)
        let ranges = try dataRanges(bundle, format, model: tmp.file("model"))
        #expect(ranges.count == 6)
        for (name, range) in ranges {
            try Fixture.write(pristine, to: bundle)
            try flip(bundle, at: range.lowerBound + range.count / 2)
            expectCaught(tmp, bundle, "flipped a byte in \(name)")
        }
    }

    @Test(arguments: [ContainerFormat.tarGz, .tarZst])
    func flippingAByteInACompressedStreamIsCaught(format: ContainerFormat) throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, format)
        let pristine = try Fixture.read(bundle)
        for fraction in [0.2, 0.4, 0.6, 0.8, 0.95] {
            try Fixture.write(pristine, to: bundle)
            try flip(bundle, at: Int(Double(pristine.count) * fraction))
            expectCaught(tmp, bundle, "flipped a byte at \(fraction)")
        }
    }

    @Test(arguments: ContainerFormat.allCases)
    func truncationIsCaught(format: ContainerFormat) throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, format)
        let pristine = try Fixture.read(bundle)
        // Cut inside the data (and, for zip and the compressed formats, near the end too, where the
        // central directory or the stream trailer lives).
        var cuts = [pristine.count / 10, pristine.count / 2]
        if format != .tar {
            cuts.append(pristine.count - 8)
        } else {
            cuts.append(try dataRanges(bundle, format, model: tmp.file("model")).map(\.1.upperBound).max()! - 10)
        }
        for cut in cuts {
            try Fixture.write(Array(pristine[..<cut]), to: bundle)
            expectCaught(tmp, bundle, "truncated to \(cut) of \(pristine.count) bytes")
        }
    }

    @Test func editingTheManifestIsCaught() throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, .tar)
        let pristine = try Fixture.read(bundle)
        let manifest = try BundleReader.inspect(bundle).manifest
        let record = try #require(manifest.files.first { $0.path == "notes.txt" })
        let edits: [(String, String, String)] = [
            ("a digest", record.sha256, String(record.sha256.dropLast()) + (record.sha256.hasSuffix("0") ? "1" : "0")),
            ("a size", "\"size\": \(record.size)", "\"size\": \(record.size - 1)"),
            ("the layout", "\"tool\": ", "\"tool\":  "),
        ]
        for (what, from, to) in edits {
            // Same-length edits keep the tar header's size valid; the layout edit replaces a space.
            var archive = pristine
            let start = try #require(find(Array(from.utf8), in: archive))
            var replacement = Array(to.utf8)
            if replacement.count != from.utf8.count {  // keep the length: drop the space after the colon of "name"
                replacement = Array(to.utf8)
                let nameKey = try #require(find(Array("\"name\": ".utf8), in: archive))
                archive.remove(at: nameKey + 7)
            }
            archive.replaceSubrange(start..<(start + from.utf8.count), with: replacement)
            try Fixture.write(archive, to: bundle)
            expectCaught(tmp, bundle, "edited \(what) in the manifest")
        }
    }
}
